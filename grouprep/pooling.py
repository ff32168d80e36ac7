"""Group embeddings from item embeddings: `[..., M, D] -> [..., D]`.

A pooling maps the M member embeddings of a group to one vector. Every pooling
takes an optional `mask [..., M]` (True: the member is in the group), so one
function pools a whole group, a padded group and the leave-one-out groups that
evaluation needs (`leave_one_out`). Add a pooling by writing one function
`fn(items, mask, params)` here and naming it in `POOLINGS` (with its
initialiser in `LEARNED` if it is learned): training, `leave_one_out` and every
evaluator then use it. A learned pooling's architecture is read from its
parameters (see set_encoders.py), so running it needs no config.
"""
from typing import Callable, Optional

import chex
import jax
import jax.numpy as jnp

from grouprep import set_encoders


def _check(items: jax.Array, mask: Optional[jax.Array]) -> None:
  chex.assert_rank(items, {2, 3, 4, 5, 6})
  if mask is not None:
    chex.assert_shape(mask, items.shape[:-1])


def _pairwise_euclidean(items: jax.Array, safe_gradient: bool) -> jax.Array:
  """[..., M, D] -> [..., M, M] member distances, the diagonal exactly 0.

  In float32 the expansion leaves |x|^2 rounding on the diagonal (a spurious
  self-distance ~0.016 at norm ~40, enough to flip a medoid tie); with
  safe_gradient the sqrt never sees 0 (sqrt'(0) is infinite).
  """
  norms = jnp.sum(items * items, axis=-1)
  gram = jnp.einsum("...md,...nd->...mn", items, items)
  sq = norms[..., :, None] + norms[..., None, :] - 2.0 * gram
  eye = jnp.eye(items.shape[-2], dtype=bool)
  if safe_gradient:
    return jnp.where(eye, 0.0,
                     jnp.sqrt(jnp.where(eye, 1.0, jnp.maximum(sq, 1e-12))))
  return jnp.where(eye, 0.0, jnp.sqrt(jnp.maximum(sq, 0.0)))


def _summed_distances(dist: jax.Array, mask: Optional[jax.Array]) -> jax.Array:
  """[..., M]: each member's summed distance to the (present) others."""
  if mask is None:
    return jnp.sum(dist, axis=-1)
  # A matrix-vector product: under leave_one_out's vmap over masks it stays
  # [..., M, M] (a where() would make an [M, M, M] array).
  return jnp.einsum("...mn,...n->...m", dist, mask.astype(dist.dtype))


def centroid(items: jax.Array, mask: Optional[jax.Array] = None) -> jax.Array:
  """Mean of the members. items: [..., M, D], mask: [..., M] -> [..., D]."""
  _check(items, mask)
  if mask is None:
    return jnp.mean(items, axis=-2)
  w = mask.astype(items.dtype)
  return (jnp.einsum("...m,...md->...d", w, items)
          / jnp.sum(w, axis=-1)[..., None])


def medoid_index(items: jax.Array,
                 mask: Optional[jax.Array] = None) -> jax.Array:
  """Index of the medoid. items: [..., M, D], mask: [..., M] -> [...] int32.

  The medoid is the member whose summed Euclidean distance to the other members
  is smallest; ties go to the lowest index (argmin's rule).
  """
  _check(items, mask)
  cost = _summed_distances(_pairwise_euclidean(items, False), mask)
  if mask is not None:
    cost = jnp.where(mask, cost, jnp.inf)
  return jnp.argmin(cost, axis=-1)


def medoid(items: jax.Array, mask: Optional[jax.Array] = None) -> jax.Array:
  """The medoid member. items: [..., M, D], mask: [..., M] -> [..., D].

  The selection is not differentiated; the gradient flows only into the
  selected member.
  """
  idx = medoid_index(jax.lax.stop_gradient(items), mask)
  return jnp.take_along_axis(items, idx[..., None, None], axis=-2)[..., 0, :]


SOFT_MEDOID_TEMPERATURE = 0.1


def soft_medoid(items: jax.Array, mask: Optional[jax.Array] = None,
                temperature: float = SOFT_MEDOID_TEMPERATURE) -> jax.Array:
  """A differentiable medoid (Geisler et al., 2020). [..., M, D] -> [..., D].

  The weighted mean of the members with weights softmax(-s_m / (T * mean s)),
  s_m the summed Euclidean distance of member m to the others. Dividing by the
  mean makes T scale-free: T -> 0 gives the medoid, T -> inf the centroid.
  """
  _check(items, mask)
  s = _summed_distances(_pairwise_euclidean(items, True), mask)  # [..., M]
  if mask is None:
    scale = jnp.mean(s, axis=-1, keepdims=True) + 1e-12
    logits = -s / (temperature * scale)
  else:
    scale = (jnp.sum(jnp.where(mask, s, 0.0), -1, keepdims=True)
             / jnp.sum(mask, -1, keepdims=True) + 1e-12)
    logits = jnp.where(mask, -s / (temperature * scale), -jnp.inf)
  w = jax.nn.softmax(logits, axis=-1)
  return jnp.einsum("...m,...md->...d", w, items)


def init_attention(rng: jax.Array, dim: int) -> dict:
  """Parameters of `attention`: a query [D] and a key map [D, D]; the key map
  starts at zero, so the pooling starts as the centroid."""
  return {"query": jax.random.normal(rng, (dim,)) / jnp.sqrt(dim),
          "key": jnp.zeros((dim, dim))}


def attention(items: jax.Array, params: dict,
              mask: Optional[jax.Array] = None) -> jax.Array:
  """Attention pooling with one learned query (Set Transformer's PMA with one
  seed, one head, no value map). [..., M, D] -> [..., D].

  Weights softmax_m(q . (W_k z_m) / sqrt(D)) over the members; the output is
  their weighted mean, so it stays in the item space that group_item compares
  it with.
  """
  _check(items, mask)
  keys = items @ params["key"]  # [..., M, D]
  logits = keys @ params["query"] / jnp.sqrt(items.shape[-1])  # [..., M]
  if mask is not None:
    logits = jnp.where(mask, logits, -jnp.inf)
  w = jax.nn.softmax(logits, axis=-1)
  return jnp.einsum("...m,...md->...d", w, items)


def set_transformer(items: jax.Array, params: dict,
                    mask: Optional[jax.Array] = None) -> jax.Array:
  """Items that attend to each other (SABs or ISABs), then a PMA
  (set_encoders.pooling; Lee et al., 2019). [..., M, D] -> [..., D]."""
  _check(items, mask)
  return set_encoders.pooling(items, params, mask)


# name -> fn(items [..., M, D], mask [..., M] | None, params) -> [..., D];
# params is None unless the pooling is learned (LEARNED[name](rng, D)).
POOLINGS = {
    "centroid": lambda items, mask, params: centroid(items, mask),
    "medoid": lambda items, mask, params: medoid(items, mask),
    "soft_medoid": lambda items, mask, params: soft_medoid(items, mask),
    "attention": lambda items, mask, params: attention(items, params, mask),
    "set_transformer": lambda items, mask, params: set_transformer(
        items, params, mask),
}
# Poolings whose leave-one-out re-runs the whole pooling once per member
# (its items interact), so it costs M times a pooling of the group.
REPOOLS_PER_MEMBER = frozenset({"set_transformer"})
LEARNED = {"attention": lambda rng, dim, **unused: init_attention(rng, dim),
           "set_transformer": set_encoders.init_pooling}


def init_params(name: str, rng: jax.Array, dim: int, settings=None):
  """The initial parameters of pooling `name` (None if it has none);
  settings: the pooling's own config section (e.g.
  config.loss.set_transformer), over its defaults."""
  if name not in LEARNED:
    return None
  if hasattr(settings, "to_dict"):  # a ConfigDict section
    settings = settings.to_dict()
  return LEARNED[name](rng, dim, **(settings or {}))


def get_pooling(name: str, params=None) -> Callable:
  """`fn(items [..., M, D], mask [..., M] = None) -> [..., D]` for pooling
  `name` with its params."""
  if name not in POOLINGS:
    raise ValueError(
        f"config.loss.pooling={name!r} is not a known pooling; choose one of "
        f"{sorted(POOLINGS)}.")
  if name in LEARNED and params is None:
    raise ValueError(f"pooling {name!r} is learned: pass its parameters.")
  return lambda items, mask=None: POOLINGS[name](items, mask, params)


def leave_one_out(name: str, params=None) -> Callable:
  """`fn(members [..., M, D], mask [..., M] = None) -> [..., M, D]`: row k is
  the group pooled without member k (the same pooling, member k masked out).

  The quantities that do not depend on the mask (distances, attention
  logits) are computed once for all M rows, except for the poolings of
  REPOOLS_PER_MEMBER, whose every row is a pooling of its own.
  """
  pool = get_pooling(name, params)

  def loo(members, mask=None):
    _check(members, mask)
    m = members.shape[-2]
    present = (jnp.ones(members.shape[:-1], bool) if mask is None else mask)
    masks = present[..., None, :] & ~jnp.eye(m, dtype=bool)  # [..., M, M]
    return jax.vmap(lambda k: pool(members, k), in_axes=-2, out_axes=-2)(masks)

  return loo
