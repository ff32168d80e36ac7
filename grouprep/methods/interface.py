"""The interface between the training step and a method (no implementations).

A method is the part of a training step that differs between systems: its
trainable head (a classifier, a learned pooling), its state that gradients do
not train (SMoG's prototypes, memory and momentum encoder), its loss on the
embeddings of the global batch, and its checks of the config. train.py
encodes the batch, gathers it across devices, calls `Method.loss`, applies the
gradients and then `Method.after_step`; it knows no method by name.
"""
import dataclasses
from typing import Callable, Dict, NamedTuple, Optional

import jax
import numpy as np


EMBEDDING_SPACES = ("unit", "raw")


class Batch(NamedTuple):
  """What a method's loss sees inside the pmapped step (n devices).

  z: [A, C, V, M, D] online embeddings of the global batch: A views of each
    image (A = max(1, Method.augmentations)), C classes, V groups per class,
    M items per group; class c is row c.
  z_local: [A, C * V * M / n, D] this device's share of z: its rows of
    z.reshape(A, C * V * M, D), device d holding rows d * C*V*M/n onwards
    (for state reduced over the devices, e.g. prototypes.ema_update(...,
    axis_name)). A device holds whole classes only when n divides C, and
    whole groups only when n divides C * V: a method that pools z_local
    by group says so with Method.whole_groups_per_device.
  labels: [C] global class ids of the rows (unsupervised methods ignore them).
  group_ids: [C, V] the training-group id of each group of the batch
    (rows of TrainingGroups.group_class).
  aux: the model's sown intermediates, gathered like z (e.g. GroupFace's
    group probabilities [A, C, V, M, K]); {} for plain encoders.
  encode: fn(variables) -> (z, z_local, batch_stats): this step's images
    through the encoder with other variables (e.g. a momentum encoder); no
    gradient reaches those variables.
  step: the step being taken; axis_name: the pmapped device axis.
  """
  z: jax.Array
  z_local: jax.Array
  labels: jax.Array
  group_ids: jax.Array
  aux: Dict
  encode: Callable
  step: jax.Array
  axis_name: str


class TrainingGroups(NamedTuple):
  """What a method may know of the training groups when it initialises.

  num_classes: training classes (the size of a classifier head);
  group_class: [K] the class of each of the K training groups;
  pooled(encoder, pool_params) -> [K, D]: each training group pooled (the
    config's pooling, with pool_params if learned) from the embeddings of
    all its items by the encoder variables `encoder` (eval mode), in the
    loss's space: one pass over the training split, made only when called.
  """
  num_classes: int
  group_class: np.ndarray
  pooled: Callable


def no_training_groups(num_classes: int = 1) -> TrainingGroups:
  """For a state whose method state is not needed (evaluation, tests)."""
  def pooled(encoder, pool_params):
    raise ValueError("These TrainingGroups carry no data to pool.")
  return TrainingGroups(num_classes, np.zeros((0,), np.int32), pooled)


def _no_head(rng, encoder, dim, training):
  del rng, encoder, dim, training
  return {}, {}


def _unchanged(state, encoder_params):
  del encoder_params
  return state


def _no_checks(config):
  del config


@dataclasses.dataclass(frozen=True)
class Method:
  """One training method.

  loss(head, state, batch) -> (loss, (state, metrics)) inside the pmapped
    step; head: the method's trainable parameters; state: its untrained
    state; metrics: scalars logged to train_log.jsonl.
  init(rng, encoder, dim, training) -> (head, state); encoder: the initial
    encoder variables {"params", "batch_stats"}; training: TrainingGroups.
  after_step(state, encoder_params) -> state, once the gradients are applied
    (e.g. a momentum encoder's EMA of the new encoder params).
  validate(config) raises ConfigError naming a field the method cannot run.
  whole_groups_per_device: the loss pools batch.z_local by group, so every
    device must hold whole groups: validation.validate_devices then also
    demands that the device count divide C * V (the batch's images C * V * M
    always must).
  augmentations: random affine views encoded per sampled image (2: two);
    0, the image itself (one view, unaugmented).
  embedding_space: the space the loss compares embeddings in, and so the one
    evaluation measures: "unit" (cosine, ArcFace, Pearson, unit-norm
    triplet) or "raw" (-||.||^2).
  pooling: the pooling the loss uses on raw item embeddings (then, in the
    unit space, the pooled vector is normalised), or None when groups exist
    only at evaluation (pooled from items in the space with
    config.loss.pooling). Evaluation pools with config.loss.pooling, so a
    pooling here must be that one (validation refuses another).
    pooling_params(head): a learned pooling's params.
  """
  loss: Callable
  embedding_space: str
  init: Callable = _no_head
  after_step: Callable = _unchanged
  validate: Callable = _no_checks
  augmentations: int = 0
  whole_groups_per_device: bool = False
  pooling: Optional[str] = None
  pooling_params: Callable = lambda head: None

  @property
  def pools_in_loss(self) -> bool:
    return self.pooling is not None

  def __post_init__(self):
    if self.embedding_space not in EMBEDDING_SPACES:
      raise ValueError(f"A Method states its embedding_space, one of "
                       f"{EMBEDDING_SPACES}; got {self.embedding_space!r}.")


def space_of_similarity(similarity: str) -> str:
  """The embedding space a pairwise similarity compares vectors in."""
  return "unit" if similarity == "cosine" else "raw"
