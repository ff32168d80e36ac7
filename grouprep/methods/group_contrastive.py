"""The note's group-contrastive losses (seed §3.1, eqs. 2 and 3).

Each of the V groups of a class is pooled into a group embedding; every ordered
pair of distinct views (a, b) contributes one InfoNCE term, so V = 2 gives the
symmetric a<->b loss.
"""
import itertools

import jax.numpy as jnp

from grouprep import losses
from grouprep import pooling


def _over_view_pairs(cfg, term):
  """loss_fn(z [C, V, M, D]) = mean over view pairs (a, b) of term(...)."""
  pool = pooling.get_pooling(cfg.pooling)
  losses.check_similarity(cfg.similarity)
  kwargs = dict(temperature=cfg.temperature, similarity=cfg.similarity)

  def loss_fn(z):
    if z.shape[1] < 2:
      raise ValueError("group-contrastive losses need data.groups_per_class >= 2.")
    groups = pool(z)  # [C, V, D]
    pairs = itertools.permutations(range(z.shape[1]), 2)
    loss = jnp.mean(jnp.stack([term(z, groups, a, b, **kwargs)
                               for a, b in pairs]))
    return loss, {"loss": loss}

  return loss_fn


def group_item_loss(cfg):
  """Items of view a against the group embeddings of view b (seed eq. 3)."""
  return _over_view_pairs(cfg, lambda z, g, a, b, **kw: losses.group_item_infonce(
      z[:, a], g[:, b], **kw))


def group_group_loss(cfg):
  """Group embeddings of view a against those of view b (seed eq. 2)."""
  return _over_view_pairs(cfg, lambda z, g, a, b, **kw: losses.group_group_infonce(
      g[:, a], g[:, b], **kw))
