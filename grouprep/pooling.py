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
  dist = jnp.sqrt(jnp.maximum(sq, 0.0))  # [..., M, M], without an M*M*D tensor
  return jnp.argmin(jnp.sum(dist, axis=-1), axis=-1)


def medoid(items: jax.Array) -> jax.Array:
  """The medoid member. items: [..., M, D] -> [..., D].

  The selection is not differentiated; the gradient flows only into the
  selected member.
  """
  idx = medoid_index(jax.lax.stop_gradient(items))
  return jnp.take_along_axis(items, idx[..., None, None], axis=-2)[..., 0, :]


POOLINGS = {"centroid": centroid, "medoid": medoid}


def get_pooling(name: str):
  """The pooling function called `name`; a clear error for unknown names."""
  if name not in POOLINGS:
    raise ValueError(
        f"config.loss.pooling={name!r} is not a known pooling; choose one of "
        f"{sorted(POOLINGS)}.")
  return POOLINGS[name]
