"""Item-level baselines: instance discrimination and the batch-hard triplet loss."""
import jax.numpy as jnp

from grouprep import losses
from grouprep.methods import Method


def make_item_item(cfg) -> Method:
  """Item-item InfoNCE (seed eq. 1) between two augmentations of each image:
  unsupervised instance discrimination; labels unused. Symmetric in the views."""
  losses.check_similarity(cfg.similarity)
  kw = dict(temperature=cfg.temperature, similarity=cfg.similarity)

  def loss(head, extra, batch):
    del head
    a, b = (v.reshape(-1, v.shape[-1]) for v in batch.z)  # [N, D] each
    value = 0.5 * (losses.item_item_infonce(a, b, **kw) +
                   losses.item_item_infonce(b, a, **kw))
    return value, (extra, {"loss": value})

  return Method(loss=loss, views=2)


def make_triplet(cfg) -> Method:
  """Batch-hard triplet loss with margin loss.margin over all C*V*M items,
  labelled by class: the triplet-optimal setting of Theorem 1."""

  def loss(head, extra, batch):
    del head
    z = batch.z[0]  # [C, V, M, D]
    c = z.shape[0]
    labels = jnp.broadcast_to(jnp.arange(c)[:, None, None], z.shape[:3])
    value = losses.triplet_batch_hard(z.reshape(-1, z.shape[-1]),
                                      labels.reshape(-1), margin=cfg.margin)
    return value, (extra, {"loss": value})

  return Method(loss=loss)
