"""Similarities and the InfoNCE family of SPEC §3 (pure, jittable).

Shapes: C classes, M items per group, D embedding dim, N items.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

SIMILARITIES = ("cosine", "neg_sq_euclidean")


def _l2_normalize(x: jax.Array, eps: float = 1e-12) -> jax.Array:
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
  if kind == "cosine":
    sim = _l2_normalize(a) @ _l2_normalize(b).T
  elif kind == "neg_sq_euclidean":
    sim = (2.0 * a @ b.T - jnp.sum(a * a, -1)[:, None]
           - jnp.sum(b * b, -1)[None, :])
  else:
    check_similarity(kind)
  return sim / temperature


def _infonce(anchors: jax.Array, candidates: jax.Array, positives: jax.Array,
             temperature: float, similarity: str) -> jax.Array:
  """Mean of -log softmax(sim(anchor, candidates))[positive].

  anchors: [N, D], candidates: [C, D], positives: [N] int in [0, C).
  """
  logits = pairwise_similarity(anchors, candidates, kind=similarity,
                               temperature=temperature)
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
  return _infonce(groups_a, groups_b, jnp.arange(groups_a.shape[0]),
                  temperature, similarity)


def item_item_infonce(items_a: jax.Array, items_b: jax.Array, *,
                      temperature: float = 0.1,
                      similarity: str = "cosine") -> jax.Array:
  """Item-item InfoNCE (seed eq. 1). items_a, items_b: [N, D] -> scalar.

  Anchor items_a[i], positive items_b[i], candidates all rows of items_b.
  """
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
    return (_l2_normalize(items), _l2_normalize(groups), 1.0 / temperature,
            jnp.zeros(groups.shape[0], items.dtype))
  # -||a - b||^2 = 2 a.b - ||b||^2 - ||a||^2; the last term is the same for
  # every candidate of a row, so it cancels between the log-sum-exp and the
  # positive.
  return (items, groups, 2.0 / temperature,
          -jnp.sum(groups * groups, -1) / temperature)


def _chunks(a, positives, chunk):
  n = a.shape[0]
  pad = (-n) % chunk
  a = jnp.pad(a, ((0, pad), (0, 0)))
  positives = jnp.pad(positives, (0, pad))
  weight = jnp.pad(jnp.ones(n, a.dtype), (0, pad))
  k = a.shape[0] // chunk
  return (a.reshape(k, chunk, -1), positives.reshape(k, chunk),
          weight.reshape(k, chunk)), n, pad


@functools.partial(jax.custom_vjp, nondiff_argnums=(4, 5))
def _streaming_nce(a, b, col_bias, positives, alpha, chunk):
  """Mean over rows of logsumexp(l) - l[pos], l = alpha a b^T + col_bias.

  a: [N, D], b: [C, D], col_bias: [C], positives: [N]. Rows are processed in
  chunks of `chunk`, so no [N, C] array is ever held.
  """
  (ac, pc, wc), n, _ = _chunks(a, positives, chunk)

  def body(total, xs):
    a_i, p_i, w_i = xs
    logits = alpha * a_i @ b.T + col_bias
    lse = jax.nn.logsumexp(logits, axis=-1)
    pos = jnp.take_along_axis(logits, p_i[:, None], -1)[:, 0]
    return total + jnp.sum(w_i * (lse - pos)), None

  total, _ = jax.lax.scan(body, jnp.zeros((), a.dtype), (ac, pc, wc))
  return total / n


def _streaming_nce_fwd(a, b, col_bias, positives, alpha, chunk):
  """Loss and its gradients in one pass: each chunk's logits are made once."""
  (ac, pc, wc), n, pad = _chunks(a, positives, chunk)

  def body(carry, xs):
    total, g_b, g_bias = carry
    a_i, p_i, w_i = xs
    logits = alpha * a_i @ b.T + col_bias
    lse = jax.nn.logsumexp(logits, axis=-1)
    pos = jnp.take_along_axis(logits, p_i[:, None], -1)[:, 0]
    g = jnp.exp(logits - lse[:, None])
    g = (g - jax.nn.one_hot(p_i, b.shape[0], dtype=g.dtype)) * (w_i / n)[:, None]
    return ((total + jnp.sum(w_i * (lse - pos)), g_b + alpha * g.T @ a_i,
             g_bias + jnp.sum(g, 0)), alpha * g @ b)

  init = (jnp.zeros((), a.dtype), jnp.zeros_like(b), jnp.zeros_like(col_bias))
  (total, g_b, g_bias), g_a = jax.lax.scan(body, init, (ac, pc, wc))
  g_a = g_a.reshape(-1, a.shape[1])[:a.shape[0]]
  return total / n, (g_a, g_b, g_bias, positives)


def _streaming_nce_bwd(alpha, chunk, res, ct):
  g_a, g_b, g_bias, positives = res
  return (ct * g_a, ct * g_b, ct * g_bias,
          np.zeros(positives.shape, jax.dtypes.float0))


_streaming_nce.defvjp(_streaming_nce_fwd, _streaming_nce_bwd)


def group_item_infonce_streaming(items: jax.Array, groups: jax.Array, *,
                                 temperature: float = 0.1,
                                 similarity: str = "cosine",
                                 chunk_size: int = 2048) -> jax.Array:
  """group_item_infonce for many groups, in O(chunk_size * C) memory.

  Same value and gradients as group_item_infonce (items: [C, M, D], groups:
  [C, D]); the log-sum-exp streams over chunks of anchors and the gradient is
  formed in the same pass, so forward + backward costs three matmuls of the
  [C*M, C] similarity shape and never materialises it.
  """
  c, m, d = items.shape
  a, b, alpha, col_bias = _affine_logits_parts(
      items.reshape(c * m, d), groups, temperature, similarity)
  positives = jnp.repeat(jnp.arange(c), m)
  return _streaming_nce(a, b, col_bias, positives, alpha,
                        min(chunk_size, c * m))
