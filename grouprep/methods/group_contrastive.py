"""The note's group-contrastive losses (seed §3.1, eqs. 2 and 3).

Each of the V groups of a class is pooled into a group embedding; every ordered
pair of distinct views (a, b) contributes one InfoNCE term, so V = 2 gives the
symmetric a<->b loss.
"""
import itertools

import jax.numpy as jnp

from grouprep import losses
from grouprep import pooling


def _view_pairs(v: int):
  if v < 2:
    raise ValueError("group-contrastive losses need data.groups_per_class >= 2.")
  return list(itertools.permutations(range(v), 2))


def group_item_loss(cfg):
  """Items of view a against the group embeddings of view b. z: [C, V, M, D]."""
  pool = pooling.get_pooling(cfg.pooling)
  losses.check_similarity(cfg.similarity)

  def loss_fn(z):
    groups = pool(z)  # [C, V, D]
    terms = [losses.group_item_infonce(z[:, a], groups[:, b],
                                       temperature=cfg.temperature,
                                       similarity=cfg.similarity)
             for a, b in _view_pairs(z.shape[1])]
    loss = jnp.mean(jnp.stack(terms))
    return loss, {"loss": loss}

  return loss_fn


def group_group_loss(cfg):
  """Group embedding of view a against those of view b. z: [C, V, M, D]."""
  pool = pooling.get_pooling(cfg.pooling)
  losses.check_similarity(cfg.similarity)

  def loss_fn(z):
    groups = pool(z)  # [C, V, D]
    terms = [losses.group_group_infonce(groups[:, a], groups[:, b],
                                        temperature=cfg.temperature,
                                        similarity=cfg.similarity)
             for a, b in _view_pairs(z.shape[1])]
    loss = jnp.mean(jnp.stack(terms))
    return loss, {"loss": loss}

  return loss_fn
