"""Similarities and the InfoNCE family of SPEC §3 (pure, jittable).

Shapes: C classes, M items per group, D embedding dim, N items.
"""
import functools
from typing import Optional

import chex
import jax
import jax.numpy as jnp
import numpy as np

SIMILARITIES = ("cosine", "neg_sq_euclidean")


def l2_normalize(x: jax.Array, eps: float = 1e-12) -> jax.Array:
  """Rows scaled to norm 1 (zero rows stay 0): [..., D] -> [..., D]. The one
  normalisation of grouprep: the cosine losses, SMoG, the unit-norm triplet
  loss and the evaluation's unit space."""
  return x * jax.lax.rsqrt(jnp.maximum(jnp.sum(x * x, -1, keepdims=True), eps))


def check_similarity(kind: str) -> None:
  if kind not in SIMILARITIES:
    raise ValueError(f"config.loss.similarity={kind!r} is not one of "
                     f"{SIMILARITIES}.")


def pairwise_similarity(a: jax.Array, b: jax.Array, *, kind: str = "cosine",
                        temperature: float = 1.0) -> jax.Array:
  """sim(a_i, b_j) / temperature. a: [Na, D], b: [Nb, D] -> [Na, Nb].

  kind="cosine": cosine similarity; kind="neg_sq_euclidean": -||a_i - b_j||^2.
  """
  chex.assert_rank([a, b], 2)
  chex.assert_equal_shape_suffix([a, b], 1)  # D
  if kind == "cosine":
    sim = l2_normalize(a) @ l2_normalize(b).T
  elif kind == "neg_sq_euclidean":
    sim = (2.0 * a @ b.T - jnp.sum(a * a, -1)[:, None]
           - jnp.sum(b * b, -1)[None, :])
  else:
    check_similarity(kind)
  return sim / temperature


def _infonce(anchors: jax.Array, candidates: jax.Array, positives: jax.Array,
             temperature: float, similarity: str,
             mask: Optional[jax.Array] = None) -> jax.Array:
  """Mean of -log softmax(sim(anchor, candidates))[positive].

  anchors: [N, D], candidates: [K, D], positives: [N] int in [0, K);
  mask: [N, K] bool, False drops a candidate from an anchor's softmax (its
  positive must stay True); None keeps every candidate.
  """
  logits = pairwise_similarity(anchors, candidates, kind=similarity,
                               temperature=temperature)
  if mask is not None:
    logits = jnp.where(mask, logits, -jnp.inf)
  log_p = jax.nn.log_softmax(logits, axis=-1)
  return -jnp.mean(jnp.take_along_axis(log_p, positives[:, None], axis=-1))


def group_item_infonce(items: jax.Array, groups: jax.Array, *,
                       temperature: float = 0.1,
                       similarity: str = "cosine") -> jax.Array:
  """Group-item InfoNCE (seed eq. 3).

  items: [C, M, D], row c holds M items of class c; groups: [C, D], row c a
  group embedding of class c. Every item is an anchor, its positive is
  groups[c], its candidates all C groups. Returns the mean over the C*M anchors.
  """
  chex.assert_rank([items, groups], [3, 2])
  chex.assert_equal_shape_prefix([items, groups], 1)  # C
  chex.assert_equal_shape_suffix([items, groups], 1)  # D
  c, m, d = items.shape
  positives = jnp.repeat(jnp.arange(c), m)
  return _infonce(items.reshape(c * m, d), groups, positives, temperature,
                  similarity)


def group_group_infonce(groups_a: jax.Array, groups_b: jax.Array, *,
                        temperature: float = 0.1,
                        similarity: str = "cosine") -> jax.Array:
  """Group-group InfoNCE (seed eq. 2). groups_a, groups_b: [C, D] -> scalar.

  Anchor groups_a[c], positive groups_b[c], candidates all rows of groups_b.
  """
  chex.assert_rank(groups_a, 2)
  chex.assert_equal_shape([groups_a, groups_b])
  return _infonce(groups_a, groups_b, jnp.arange(groups_a.shape[0]),
                  temperature, similarity)


def item_item_infonce(items_a: jax.Array, items_b: jax.Array, *,
                      temperature: float = 0.1,
                      similarity: str = "cosine") -> jax.Array:
  """Item-item InfoNCE (seed eq. 1). items_a, items_b: [N, D] -> scalar.

  Anchor items_a[i], positive items_b[i], candidates all rows of items_b.
  """
  chex.assert_rank(items_a, 2)
  chex.assert_equal_shape([items_a, items_b])
  return _infonce(items_a, items_b, jnp.arange(items_a.shape[0]), temperature,
                  similarity)


# --------------------------------------------------------------------------
# Streaming group-item InfoNCE for many groups.
# --------------------------------------------------------------------------
def _affine_logits_parts(items, groups, temperature, similarity):
  """(a, b, alpha, col_bias): logits = alpha * a @ b.T + col_bias, up to a
  per-row constant that cancels in the loss."""
  check_similarity(similarity)
  if similarity == "cosine":
    return (l2_normalize(items), l2_normalize(groups), 1.0 / temperature,
            jnp.zeros(groups.shape[0], items.dtype))
  # -||a - b||^2 = 2 a.b - ||b||^2 - ||a||^2; the last term is the same for
  # every candidate of a row, so it cancels between the log-sum-exp and the
  # positive.
  return (items, groups, 2.0 / temperature,
          -jnp.sum(groups * groups, -1) / temperature)


def kept_candidates(positives, anchor_class, candidate_class):
  """[N, K] bool: candidate k stays in anchor n's softmax iff it is the
  anchor's positive, or it belongs to another class (candidate_class >= 0
  and != anchor_class[n]); candidate_class -1 marks a candidate that may only
  be a positive. positives, anchor_class: [N]; candidate_class: [K]."""
  k = jnp.arange(candidate_class.shape[0])
  other = (candidate_class[None, :] >= 0) & (
      candidate_class[None, :] != anchor_class[:, None])
  return (k[None, :] == positives[:, None]) | other


def _chunks(a, positives, anchor_class, chunk):
  n = a.shape[0]
  pad = (-n) % chunk
  a = jnp.pad(a, ((0, pad), (0, 0)))
  positives = jnp.pad(positives, (0, pad))
  anchor_class = jnp.pad(anchor_class, (0, pad))
  weight = jnp.pad(jnp.ones(n, a.dtype), (0, pad))
  k = a.shape[0] // chunk
  return (a.reshape(k, chunk, -1), positives.reshape(k, chunk),
          anchor_class.reshape(k, chunk), weight.reshape(k, chunk)), n, pad


@functools.partial(jax.custom_vjp, nondiff_argnums=(6, 7))
def _streaming_nce(a, b, col_bias, positives, anchor_class, candidate_class,
                   alpha, chunk):
  """Mean over rows of logsumexp(l) - l[pos], l = alpha a b^T + col_bias,
  l = -inf where kept_candidates(...) is False.

  a: [N, D], b: [K, D], col_bias: [K], positives, anchor_class: [N],
  candidate_class: [K]. Rows are processed in chunks of `chunk` and each
  chunk's mask is made from the class ids, so no [N, K] array is ever held.
  """
  (ac, pc, cc, wc), n, _ = _chunks(a, positives, anchor_class, chunk)

  def body(total, xs):
    a_i, p_i, c_i, w_i = xs
    keep = kept_candidates(p_i, c_i, candidate_class)
    logits = jnp.where(keep, alpha * a_i @ b.T + col_bias, -jnp.inf)
    lse = jax.nn.logsumexp(logits, axis=-1)
    pos = jnp.take_along_axis(logits, p_i[:, None], -1)[:, 0]
    return total + jnp.sum(w_i * (lse - pos)), None

  total, _ = jax.lax.scan(body, jnp.zeros((), a.dtype), (ac, pc, cc, wc))
  return total / n


def _streaming_nce_fwd(a, b, col_bias, positives, anchor_class,
                       candidate_class, alpha, chunk):
  """Loss and its gradients in one pass: each chunk's logits are made once."""
  (ac, pc, cc, wc), n, pad = _chunks(a, positives, anchor_class, chunk)

  def body(carry, xs):
    total, g_b, g_bias = carry
    a_i, p_i, c_i, w_i = xs
    keep = kept_candidates(p_i, c_i, candidate_class)
    logits = jnp.where(keep, alpha * a_i @ b.T + col_bias, -jnp.inf)
    lse = jax.nn.logsumexp(logits, axis=-1)
    pos = jnp.take_along_axis(logits, p_i[:, None], -1)[:, 0]
    g = jnp.exp(logits - lse[:, None])
    g = (g - jax.nn.one_hot(p_i, b.shape[0], dtype=g.dtype)) * (w_i / n)[:, None]
    return ((total + jnp.sum(w_i * (lse - pos)), g_b + alpha * g.T @ a_i,
             g_bias + jnp.sum(g, 0)), alpha * g @ b)

  init = (jnp.zeros((), a.dtype), jnp.zeros_like(b), jnp.zeros_like(col_bias))
  (total, g_b, g_bias), g_a = jax.lax.scan(body, init, (ac, pc, cc, wc))
  g_a = g_a.reshape(-1, a.shape[1])[:a.shape[0]]
  return total / n, (g_a, g_b, g_bias, positives, anchor_class,
                     candidate_class)


def _streaming_nce_bwd(alpha, chunk, res, ct):
  g_a, g_b, g_bias, *ids = res
  return (ct * g_a, ct * g_b, ct * g_bias) + tuple(
      np.zeros(x.shape, jax.dtypes.float0) for x in ids)


_streaming_nce.defvjp(_streaming_nce_fwd, _streaming_nce_bwd)


def group_item_infonce_streaming(items: jax.Array, groups: jax.Array, *,
                                 temperature: float = 0.1,
                                 similarity: str = "cosine",
                                 chunk_size: int = 2048) -> jax.Array:
  """group_item_infonce for many groups, in O(chunk_size * C) memory.

  Same value and gradients as group_item_infonce (items: [C, M, D], groups:
  [C, D]); the log-sum-exp streams over chunks of anchors and the gradient is
  formed in the same pass, so forward + backward costs three matmuls of the
  [C*M, C] similarity shape and never materialises it. (Training streams
  through candidates_infonce, with prototype candidates; this batch-loss
  form is for callers with many groups, and `benchmark` times it.)
  """
  chex.assert_rank([items, groups], [3, 2])
  chex.assert_equal_shape_prefix([items, groups], 1)  # C
  chex.assert_equal_shape_suffix([items, groups], 1)  # D
  c, m, d = items.shape
  a, b, alpha, col_bias = _affine_logits_parts(
      items.reshape(c * m, d), groups, temperature, similarity)
  positives = jnp.repeat(jnp.arange(c), m)  # one candidate per class
  return _streaming_nce(a, b, col_bias, positives, positives, jnp.arange(c),
                        alpha, min(chunk_size, c * m))


def candidates_infonce(anchors: jax.Array, candidates: jax.Array,
                       positives: jax.Array, anchor_class: jax.Array,
                       candidate_class: jax.Array, *,
                       temperature: float = 0.1, similarity: str = "cosine",
                       streaming: bool = False,
                       chunk_size: int = 2048) -> jax.Array:
  """InfoNCE of N anchors against any K candidates (K need not be C).

  anchors: [N, D]; candidates: [K, D]; positives: [N] int, each anchor's
  positive candidate; anchor_class: [N], candidate_class: [K] int, the mask:
  an anchor's softmax keeps its positive and the candidates of other classes
  (kept_candidates; class -1: a candidate that may only be a positive).
  Returns the mean over the anchors of -log softmax over the kept
  candidates, at the positive. streaming=True gives the same value and
  gradients in O(chunk_size * K) memory (the group_item_infonce_streaming
  computation, masked chunk by chunk).
  """
  chex.assert_rank([anchors, candidates, positives, anchor_class,
                    candidate_class], [2, 2, 1, 1, 1])
  chex.assert_equal_shape_suffix([anchors, candidates], 1)  # D
  chex.assert_shape([positives, anchor_class], (anchors.shape[0],))
  chex.assert_shape(candidate_class, (candidates.shape[0],))
  if not streaming:
    return _infonce(anchors, candidates, positives, temperature, similarity,
                    kept_candidates(positives, anchor_class, candidate_class))
  a, b, alpha, col_bias = _affine_logits_parts(anchors, candidates,
                                               temperature, similarity)
  return _streaming_nce(a, b, col_bias, positives, anchor_class,
                        candidate_class, alpha,
                        min(chunk_size, anchors.shape[0]))


# --------------------------------------------------------------------------
# The related systems' losses (SPEC §1). N items, K prototypes or classes.
# --------------------------------------------------------------------------
def prototype_infonce(items: jax.Array, prototypes: jax.Array,
                      targets: jax.Array, *, temperature: float = 0.1,
                      similarity: str = "cosine") -> jax.Array:
  """Group-item InfoNCE against K prototypes (SMoG): items [N, D], prototypes
  [K, D], targets [N] int (each item's group). Mean over the N items of
  -log softmax_k(sim(item, prototypes[k]))[target]."""
  chex.assert_rank([items, prototypes, targets], [2, 2, 1])
  chex.assert_equal_shape_suffix([items, prototypes], 1)  # D
  chex.assert_equal_shape_prefix([items, targets], 1)  # N
  return _infonce(items, prototypes, targets, temperature, similarity)


def euclidean_distances(a: jax.Array, b: jax.Array) -> jax.Array:
  """Euclidean distances [Na, Nb], differentiable (the gradient at a zero
  distance is 0); metrics.pairwise_distances is the evaluation's (numpy)."""
  chex.assert_rank([a, b], 2)
  chex.assert_equal_shape_suffix([a, b], 1)  # D
  sq = jnp.maximum(-pairwise_similarity(a, b, kind="neg_sq_euclidean"), 0.0)
  safe = jnp.where(sq > 1e-12, sq, 1.0)
  return jnp.where(sq > 1e-12, jnp.sqrt(safe), 0.0)


def triplet_batch_hard(embeddings: jax.Array, labels: jax.Array, *,
                       margin: float = 0.5) -> jax.Array:
  """Batch-hard triplet loss (Hermans et al., 2017), Euclidean distances.

  embeddings: [N, D], labels: [N]. For each anchor: its farthest positive
  (same label, not itself) and nearest negative; the mean over anchors that
  have both of max(0, d(a, p) - d(a, n) + margin) -- Theorem 1's setting.
  """
  chex.assert_rank([embeddings, labels], [2, 1])
  chex.assert_equal_shape_prefix([embeddings, labels], 1)  # N
  d = euclidean_distances(embeddings, embeddings)
  same = labels[:, None] == labels[None, :]
  pos = same & ~jnp.eye(len(labels), dtype=bool)
  hardest_pos = jnp.max(jnp.where(pos, d, -jnp.inf), axis=1)
  hardest_neg = jnp.min(jnp.where(same, jnp.inf, d), axis=1)
  valid = pos.any(1) & (~same).any(1)
  per_anchor = jnp.maximum(hardest_pos - hardest_neg + margin, 0.0)
  return jnp.sum(jnp.where(valid, per_anchor, 0.0)) / jnp.maximum(
      jnp.sum(valid), 1)


def arcface_loss(embeddings: jax.Array, class_weights: jax.Array,
                 labels: jax.Array, *, scale: float = 32.0,
                 margin: float = 0.5) -> jax.Array:
  """ArcFace (Deng et al., 2019): cross-entropy of s * cos(theta_k), with the
  target's angle increased by the margin: s * cos(theta_y + m).

  embeddings: [N, D], class_weights: [K, D], labels: [N] in [0, K).
  """
  chex.assert_rank([embeddings, class_weights, labels], [2, 2, 1])
  chex.assert_equal_shape_suffix([embeddings, class_weights], 1)  # D
  chex.assert_equal_shape_prefix([embeddings, labels], 1)  # N
  cos = pairwise_similarity(embeddings, class_weights, kind="cosine")
  cos = jnp.clip(cos, -1.0 + 1e-6, 1.0 - 1e-6)
  target = jax.nn.one_hot(labels, class_weights.shape[0], dtype=bool)
  theta = jnp.arccos(cos)
  # Past pi - m, cos(theta + m) would increase again: keep it monotone.
  with_margin = jnp.where(theta + margin < jnp.pi, jnp.cos(theta + margin),
                          cos - margin * jnp.sin(margin))
  logits = scale * jnp.where(target, with_margin, cos)
  log_p = jax.nn.log_softmax(logits, axis=-1)
  return -jnp.mean(jnp.take_along_axis(log_p, labels[:, None], axis=-1))


def self_distributed_labels(probs: jax.Array) -> jax.Array:
  """GroupFace's self-distributed labels. probs: [N, K] -> [N] int32.

  argmax_k (p(G_k|x) - E_batch[p(G_k|x)]) / K + 1/K: subtracting the batch
  mean steers items away from over-used groups, which balances them.
  """
  chex.assert_rank(probs, 2)
  k = probs.shape[-1]
  centred = (probs - jnp.mean(probs, axis=0, keepdims=True)) / k + 1.0 / k
  return jnp.argmax(centred, axis=-1).astype(jnp.int32)


def pearson_affinity(embeddings: jax.Array) -> jax.Array:
  """The Group Loss's W: ReLU of the Pearson correlation between embeddings,
  zero diagonal. [N, D] -> [N, N]."""
  chex.assert_rank(embeddings, 2)
  x = embeddings - jnp.mean(embeddings, axis=1, keepdims=True)
  x = l2_normalize(x)
  w = jax.nn.relu(x @ x.T)
  return w * (1.0 - jnp.eye(len(w), dtype=w.dtype))


def replicator_dynamics(affinity: jax.Array, priors: jax.Array,
                        iterations: int) -> jax.Array:
  """X <- X * (W X), each row renormalised to sum to 1, `iterations` times.

  affinity: [N, N] non-negative, priors: [N, K] rows on the simplex -> [N, K].
  """
  chex.assert_rank([affinity, priors], 2)
  chex.assert_equal_shape_prefix([affinity, priors], 1)  # N
  chex.assert_axis_dimension(affinity, 1, priors.shape[0])  # N
  def body(x, _):
    x = x * (affinity @ x)
    return x / jnp.maximum(jnp.sum(x, -1, keepdims=True), 1e-12), None

  x, _ = jax.lax.scan(body, priors, None, length=iterations)
  return x


def group_loss(embeddings: jax.Array, logits: jax.Array, labels: jax.Array,
               anchors: jax.Array, *, temperature: float = 10.0,
               iterations: int = 2) -> jax.Array:
  """The Group Loss (Elezi et al., 2020).

  embeddings: [N, D]; logits: [N, K] a classifier's; labels: [N]; anchors: [N]
  bool, the items whose prior is their one-hot label. Priors are
  softmax(logits / T) elsewhere; `iterations` of replicator dynamics over the
  Pearson affinity refine them; the loss is NLL(log X, y) + CE(logits, y).
  """
  chex.assert_rank([embeddings, logits, labels, anchors], [2, 2, 1, 1])
  chex.assert_equal_shape_prefix([embeddings, logits, labels, anchors], 1)  # N
  k = logits.shape[-1]
  one_hot = jax.nn.one_hot(labels, k, dtype=logits.dtype)
  priors = jnp.where(anchors[:, None], one_hot,
                     jax.nn.softmax(logits / temperature, axis=-1))
  x = replicator_dynamics(pearson_affinity(embeddings), priors, iterations)
  nll = -jnp.mean(jnp.sum(one_hot * jnp.log(jnp.maximum(x, 1e-12)), -1))
  ce = -jnp.mean(jnp.sum(one_hot * jax.nn.log_softmax(logits, -1), -1))
  return nll + ce
