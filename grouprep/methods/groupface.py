"""GroupFace (Kim et al., CVPR 2020) on top of the item encoder.

The model (models.GroupFaceConv4, model.name="conv4_groupface") gives the
group-aware embedding v_x + sum_k p(G_k|x) v_{G_k} and sows the group
probabilities p [.., K]. The loss is ArcFace on the class labels plus
lambda * CE(p, self-distributed labels), the labels computed over the global
batch so that the K latent groups stay balanced.
"""
import jax
import jax.numpy as jnp

from grouprep import losses
from grouprep.methods import checks
from grouprep.errors import ConfigError
from grouprep.methods.interface import Method


def validate(config) -> None:
  if config.model.name != "conv4_groupface":
    raise ConfigError(
        f"loss.name='groupface' needs config.model.name='conv4_groupface' (the "
        f"model gives p(G_k|x)); got {config.model.name!r}.")
  checks.pools_only_at_evaluation(config)
  checks.batch_candidates_only(config)
  checks.similarity_unused(config, "ArcFace is cosine to the class weights")


def make(cfg) -> Method:

  def init(rng, encoder, dim, training):
    del encoder
    w = jax.random.normal(rng, (training.num_classes, dim)) / jnp.sqrt(dim)
    return {"class_weights": w}, {}

  def loss(head, state, batch):
    z = batch.z[0]  # [C, V, M, D]
    c, v, m, d = z.shape
    probs = batch.aux["group_probs"][0].reshape(c * v * m, -1)  # [N, K]
    labels = jnp.repeat(batch.labels, v * m)
    arc = losses.arcface_loss(z.reshape(-1, d), head["class_weights"], labels,
                              scale=cfg.arcface_scale,
                              margin=cfg.arcface_margin)
    sdl = losses.self_distributed_labels(jax.lax.stop_gradient(probs))
    group_ce = -jnp.mean(jnp.log(jnp.maximum(
        jnp.take_along_axis(probs, sdl[:, None], -1)[:, 0], 1e-12)))
    value = arc + cfg.groupface_lambda * group_ce
    used = jnp.bincount(jnp.argmax(probs, -1), length=probs.shape[-1]) > 0
    return value, (state, {"loss": value, "arcface": arc,
                           "group_ce": group_ce,
                           "latent_groups_used": jnp.sum(used)})

  return Method(loss=loss, init=init, validate=validate,
                embedding_space="unit")  # ArcFace: cosine to class weights
