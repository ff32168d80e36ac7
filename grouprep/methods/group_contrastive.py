"""The note's group-contrastive losses (seed §3.1, eqs. 2 and 3).

Each of the V groups (views) of a class is pooled into a group embedding;
every ordered pair of distinct views (a, b) contributes one InfoNCE term, so
V = 2 gives the symmetric a<->b loss. A learned pooling's parameters are the
method's head.
"""
import itertools

import jax.numpy as jnp

from grouprep import losses
from grouprep import pooling
from grouprep.errors import ConfigError
from grouprep.methods.interface import Method
from grouprep.methods.interface import space_of_similarity


def validate(config) -> None:
  """Checks shared by every loss that pairs two groups of a class."""
  if config.data.groups_per_class < 2:
    raise ConfigError(
        f"config.data.groups_per_class={config.data.groups_per_class} must be "
        f">= 2 for loss.name={config.loss.name!r} (it pairs two groups of a "
        f"class).")


def _over_view_pairs(cfg, term) -> Method:
  """loss = mean over view pairs (a, b) of term(z [C, V, M, D], groups, a, b)."""
  kwargs = dict(temperature=cfg.temperature, similarity=cfg.similarity)

  def init(rng, encoder, dim, num_classes):
    del encoder, num_classes
    params = pooling.init_params(cfg.pooling, rng, dim)
    return ({"pool": params} if params is not None else {}), {}

  def loss(head, state, batch):
    z = batch.z[0]  # [C, V, M, D]
    groups = pooling.get_pooling(cfg.pooling, head.get("pool"))(z)  # [C, V, D]
    pairs = itertools.permutations(range(z.shape[1]), 2)
    value = jnp.mean(jnp.stack([term(z, groups, a, b, **kwargs)
                                for a, b in pairs]))
    return value, (state, {"loss": value})

  return Method(loss=loss, init=init, validate=validate,
                pooling=cfg.pooling,
                pooling_params=lambda head: head.get("pool"),
                embedding_space=space_of_similarity(cfg.similarity))


def make_group_item(cfg) -> Method:
  """Items of view a against the group embeddings of view b (seed eq. 3)."""
  return _over_view_pairs(cfg, lambda z, g, a, b, **kw: losses.group_item_infonce(
      z[:, a], g[:, b], **kw))


def make_group_group(cfg) -> Method:
  """Group embeddings of view a against those of view b (seed eq. 2)."""
  return _over_view_pairs(cfg, lambda z, g, a, b, **kw: losses.group_group_infonce(
      g[:, a], g[:, b], **kw))
