"""Similarities and the InfoNCE family of SPEC §3 (pure, jittable).

Shapes: C classes, M items per group, D embedding dim, N items.
"""
import jax
import jax.numpy as jnp

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
