"""Group embeddings from item embeddings: `[..., M, D] -> [..., D]`.

A pooling maps the M member embeddings of a group to one vector. Add a new one
by writing a function here and naming it in `POOLINGS`.
"""
import jax
import jax.numpy as jnp


def centroid(items: jax.Array) -> jax.Array:
  """Mean of the members. items: [..., M, D] -> [..., D]."""
  return jnp.mean(items, axis=-2)


def medoid_index(items: jax.Array) -> jax.Array:
  """Index of the medoid. items: [..., M, D] -> [...] int32.

  The medoid is the member whose summed Euclidean distance to the other members
  is smallest; ties go to the lowest index (argmin's rule).
  """
  norms = jnp.sum(items * items, axis=-1)
  gram = jnp.einsum("...md,...nd->...mn", items, items)
  sq = norms[..., :, None] + norms[..., None, :] - 2.0 * gram
  # The diagonal is exactly 0: in float32 the expansion leaves |x|^2 rounding
  # there (a spurious self-distance ~0.016 at norm ~40, enough to flip a tie).
  eye = jnp.eye(items.shape[-2], dtype=bool)
  dist = jnp.where(eye, 0.0, jnp.sqrt(jnp.maximum(sq, 0.0)))  # [..., M, M]
  return jnp.argmin(jnp.sum(dist, axis=-1), axis=-1)


def medoid(items: jax.Array) -> jax.Array:
  """The medoid member. items: [..., M, D] -> [..., D].

  The selection is not differentiated; the gradient flows only into the
  selected member.
  """
  idx = medoid_index(jax.lax.stop_gradient(items))
  return jnp.take_along_axis(items, idx[..., None, None], axis=-2)[..., 0, :]


SOFT_MEDOID_TEMPERATURE = 0.1


def soft_medoid(items: jax.Array,
                temperature: float = SOFT_MEDOID_TEMPERATURE) -> jax.Array:
  """A differentiable medoid (Geisler et al., 2020). [..., M, D] -> [..., D].

  The weighted mean of the members with weights softmax(-s_m / (T * mean s)),
  s_m the summed Euclidean distance of member m to the others. Dividing by the
  mean makes T scale-free: T -> 0 gives the medoid, T -> inf the centroid.
  """
  norms = jnp.sum(items * items, axis=-1)
  gram = jnp.einsum("...md,...nd->...mn", items, items)
  sq = norms[..., :, None] + norms[..., None, :] - 2.0 * gram
  # sqrt'(0) is infinite: the diagonal (exactly 0) is masked out first.
  eye = jnp.eye(items.shape[-2], dtype=bool)
  dist = jnp.where(eye, 0.0, jnp.sqrt(jnp.where(eye, 1.0, jnp.maximum(sq, 1e-12))))
  s = jnp.sum(dist, axis=-1)  # [..., M]
  scale = jnp.mean(s, axis=-1, keepdims=True) + 1e-12
  w = jax.nn.softmax(-s / (temperature * scale), axis=-1)
  return jnp.einsum("...m,...md->...d", w, items)


def init_attention(rng: jax.Array, dim: int) -> dict:
  """Parameters of `attention`: a query [D] and a key map [D, D]; the key map
  starts at zero, so the pooling starts as the centroid."""
  return {"query": jax.random.normal(rng, (dim,)) / jnp.sqrt(dim),
          "key": jnp.zeros((dim, dim))}


def attention(items: jax.Array, params: dict) -> jax.Array:
  """Attention pooling with one learned query (Set Transformer's PMA with one
  seed, one head, no value map). [..., M, D] -> [..., D].

  Weights softmax_m(q . (W_k z_m) / sqrt(D)) over the members; the output is
  their weighted mean, so it stays in the item space that group_item compares
  it with.
  """
  keys = items @ params["key"]  # [..., M, D]
  logits = keys @ params["query"] / jnp.sqrt(items.shape[-1])  # [..., M]
  w = jax.nn.softmax(logits, axis=-1)
  return jnp.einsum("...m,...md->...d", w, items)


# name -> fn(items [..., M, D], params) -> [..., D]; params is None unless the
# pooling is learned (then LEARNED[name](rng, D) initialises them).
POOLINGS = {
    "centroid": lambda items, params: centroid(items),
    "medoid": lambda items, params: medoid(items),
    "soft_medoid": lambda items, params: soft_medoid(items),
    "attention": attention,
}
LEARNED = {"attention": init_attention}


def init_params(name: str, rng: jax.Array, dim: int):
  """The initial parameters of pooling `name` (None if it has none)."""
  return LEARNED[name](rng, dim) if name in LEARNED else None


def get_pooling(name: str, params=None):
  """`fn(items [..., M, D]) -> [..., D]` for pooling `name` (with its params)."""
  if name not in POOLINGS:
    raise ValueError(
        f"config.loss.pooling={name!r} is not a known pooling; choose one of "
        f"{sorted(POOLINGS)}.")
  if name in LEARNED and params is None:
    raise ValueError(f"pooling {name!r} is learned: pass its parameters.")
  return lambda items: POOLINGS[name](items, params)
