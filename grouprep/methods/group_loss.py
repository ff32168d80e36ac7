"""The Group Loss (Elezi et al., ECCV 2020).

Batches of C classes x (V * M) items. A linear classifier (the head) gives
priors softmax(logits / T); loss.anchors items of each class get their one-hot
label as prior; replicator dynamics over W = ReLU(Pearson correlation) refine
the priors for loss.iterations steps; loss = NLL(refined, y) + CE(logits, y).
"""
import jax
import jax.numpy as jnp

from grouprep import losses
from grouprep.methods import checks
from grouprep.methods.interface import Method


def validate(config) -> None:
  checks.pools_only_at_evaluation(config)
  checks.batch_candidates_only(config)
  checks.similarity_unused(config, "its affinity is the Pearson correlation")


def make(cfg) -> Method:

  def init(rng, encoder, dim, training):
    del encoder
    kernel = jax.random.normal(rng, (dim, training.num_classes)) / jnp.sqrt(dim)
    return {"kernel": kernel, "bias": jnp.zeros((training.num_classes,))}, {}

  def loss(head, state, batch):
    z = batch.z[0]  # [C, V, M, D]
    c, v, m, d = z.shape
    emb = z.reshape(-1, d)
    labels = jnp.repeat(batch.labels, v * m)  # [N] global class ids
    anchors = (jnp.arange(v * m) < cfg.anchors)[None, :].repeat(c, 0).reshape(-1)
    logits = emb @ head["kernel"] + head["bias"]
    value = losses.group_loss(emb, logits, labels, anchors,
                              temperature=cfg.prior_temperature,
                              iterations=cfg.iterations)
    accuracy = jnp.mean(jnp.argmax(logits, -1) == labels)
    return value, (state, {"loss": value, "classifier_accuracy": accuracy})

  # W is the Pearson correlation, the cosine of embeddings centred over their
  # dimensions; the classifier reads raw embeddings. Evaluated on the unit
  # sphere, the space of the affinity that defines the groups.
  return Method(loss=loss, init=init, validate=validate,
                embedding_space="unit")
