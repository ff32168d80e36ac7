"""Item-level baselines: instance discrimination and the batch-hard triplet loss."""
import jax.numpy as jnp

from grouprep import losses
from grouprep.methods import checks
from grouprep.methods.interface import Method
from grouprep.methods.interface import space_of_similarity


def make_item_item(cfg) -> Method:
  """Item-item InfoNCE (seed eq. 1) between two augmentations of each image:
  unsupervised instance discrimination; labels unused. Symmetric in the two
  augmentations."""
  kw = dict(temperature=cfg.temperature, similarity=cfg.similarity)

  def loss(head, state, batch):
    del head
    a, b = (v.reshape(-1, v.shape[-1]) for v in batch.z)  # [N, D] each
    value = 0.5 * (losses.item_item_infonce(a, b, **kw) +
                   losses.item_item_infonce(b, a, **kw))
    return value, (state, {"loss": value})

  def validate(config):
    checks.pools_only_at_evaluation(config)
    checks.batch_candidates_only(config)

  return Method(loss=loss, augmentations=2, validate=validate,
                embedding_space=space_of_similarity(cfg.similarity))


def make_triplet(cfg) -> Method:
  """Batch-hard triplet loss with margin loss.margin over all C*V*M items,
  labelled by class: the triplet-optimal setting of Theorem 1. With
  loss.normalize the distances are taken between unit-norm embeddings
  (FaceNet): unnormalised, the encoder can shrink every distance towards 0,
  where the loss is the margin and batch-hard mining stalls."""

  def loss(head, state, batch):
    del head
    z = batch.z[0]  # [C, V, M, D]
    if cfg.normalize:
      z = losses.l2_normalize(z)
    c = z.shape[0]
    labels = jnp.broadcast_to(jnp.arange(c)[:, None, None], z.shape[:3])
    value = losses.triplet_batch_hard(z.reshape(-1, z.shape[-1]),
                                      labels.reshape(-1), margin=cfg.margin)
    return value, (state, {"loss": value})

  def validate(config):
    checks.pools_only_at_evaluation(config)
    checks.batch_candidates_only(config)
    checks.similarity_unused(config, "its distance is Euclidean, between "
                             "unit-norm embeddings if loss.normalize")

  return Method(loss=loss, validate=validate,
                embedding_space="unit" if cfg.normalize else "raw")
