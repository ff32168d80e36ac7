"""Group prototypes: assignment and the momentum update (SMoG, SPEC §3).

Shapes: N items, K prototypes, D embedding dim.
"""
from typing import Optional

import chex
import jax
import jax.numpy as jnp

from grouprep.losses import l2_normalize
from grouprep.losses import pairwise_similarity


def assign(items: jax.Array, prototypes: jax.Array) -> jax.Array:
  """Most cosine-similar prototype of each item. [N, D], [K, D] -> [N] int32."""
  chex.assert_rank([items, prototypes], 2)
  chex.assert_equal_shape_suffix([items, prototypes], 1)  # D
  return jnp.argmax(pairwise_similarity(items, prototypes, kind="cosine"),
                    axis=-1).astype(jnp.int32)


def ema_update(prototypes: jax.Array, items: jax.Array,
               assignments: jax.Array, momentum: float,
               axis_name: Optional[str] = None) -> jax.Array:
  """Momentum update of the prototypes that received items.

  p_k <- momentum * p_k + (1 - momentum) * mean(items assigned to k), for every
  k with at least one item; other rows unchanged. prototypes: [K, D], items:
  [N, D], assignments: [N]. With `axis_name`, sums and counts are reduced over
  that mapped axis first, so every replica computes the same update from the
  global batch (SMoG's synchronous grouping). Differentiable in `items`.
  """
  chex.assert_rank([prototypes, items, assignments], [2, 2, 1])
  chex.assert_equal_shape_suffix([prototypes, items], 1)  # D
  chex.assert_equal_shape_prefix([items, assignments], 1)  # N
  k = prototypes.shape[0]
  one_hot = jax.nn.one_hot(assignments, k, dtype=items.dtype)  # [N, K]
  sums = one_hot.T @ items  # [K, D]
  counts = jnp.sum(one_hot, axis=0)  # [K]
  if axis_name is not None:
    sums = jax.lax.psum(sums, axis_name)
    counts = jax.lax.psum(counts, axis_name)
  means = sums / jnp.maximum(counts, 1.0)[:, None]
  updated = momentum * prototypes + (1.0 - momentum) * means
  return jnp.where((counts > 0)[:, None], updated, prototypes)


def kmeans(points: jax.Array, valid: jax.Array, init: jax.Array,
           iterations: int = 10) -> jax.Array:
  """Spherical k-means re-grouping (SMoG): `iterations` rounds of assigning
  the valid points to the most cosine-similar centre and moving each centre to
  the normalised mean of its points; a centre with no points stays put.

  points: [Q, D], valid: [Q] bool, init: [K, D] -> centres [K, D].
  """
  chex.assert_rank([points, valid, init], [2, 1, 2])
  chex.assert_equal_shape_prefix([points, valid], 1)  # Q
  chex.assert_equal_shape_suffix([points, init], 1)  # D
  k = init.shape[0]

  def body(centres, _):
    one_hot = jax.nn.one_hot(assign(points, centres), k,
                             dtype=points.dtype) * valid[:, None]
    sums, counts = one_hot.T @ points, jnp.sum(one_hot, axis=0)
    moved = l2_normalize(sums)
    return jnp.where((counts > 0)[:, None], moved, centres), None

  centres, _ = jax.lax.scan(body, init, None, length=iterations)
  return centres


def usage(assignments: jax.Array, num_prototypes: int,
          weights: Optional[jax.Array] = None):
  """Collapse monitors: (number of non-empty groups, assignment entropy / log K).

  assignments: [N] int; weights: [N] (default 1) -- e.g. a validity mask.
  """
  chex.assert_rank(assignments, 1)
  if weights is not None:
    chex.assert_equal_shape([assignments, weights])
  w = jnp.ones(assignments.shape, jnp.float32) if weights is None else weights
  counts = jnp.zeros(num_prototypes).at[assignments].add(w)
  p = counts / jnp.maximum(jnp.sum(counts), 1.0)
  entropy = -jnp.sum(jnp.where(p > 0, p * jnp.log(jnp.where(p > 0, p, 1.0)), 0.0))
  return jnp.sum(counts > 0), entropy / jnp.log(num_prototypes)
