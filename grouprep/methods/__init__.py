"""Training methods, chosen by `config.loss.name`.

A method is the part of a training step that differs between systems: its loss
on the embeddings of the global batch, its trainable head (a classifier, a
learned pooling), and its state that gradients do not train (SMoG's prototypes
and momentum encoder). train.py encodes the batch, gathers it across devices,
calls `Method.loss` and applies the gradients; nothing else is per-method.
Add a method by writing a module with a `make(cfg) -> Method` and naming it in
`METHODS`.
"""
import dataclasses
from typing import Any, Callable, Dict, NamedTuple, Optional

import jax


class Batch(NamedTuple):
  """What a method's loss sees inside the pmapped step (n devices).

  z: [A, C, V, M, D] online embeddings of the global batch, A augmented views
    (A = Method.views); class c is row c, so labels within it are `c`.
  z_local: [A, C / n, V, M, D] this device's rows of z.
  labels: [C] global class ids of the rows (unsupervised methods ignore them).
  aux: the model's sown intermediates, gathered like z (e.g. GroupFace's
    group probabilities [A, C, V, M, K]); {} for plain encoders.
  z_momentum, z_momentum_local: like z from the momentum encoder (no gradient)
    when Method.momentum is set, else None.
  step: the step being taken; axis_name: the pmapped axis.
  """
  z: jax.Array
  z_local: jax.Array
  labels: jax.Array
  aux: Dict
  z_momentum: Optional[jax.Array]
  z_momentum_local: Optional[jax.Array]
  step: jax.Array
  axis_name: str


EMBEDDING_SPACES = ("unit", "raw")


def _no_head(rng, dim, num_classes):
  del rng, dim, num_classes
  return {}, {}


@dataclasses.dataclass(frozen=True)
class Method:
  """loss(head, extra, batch) -> (loss, (extra, metrics)) inside the pmapped
  step; head: the method's trainable parameters, extra: its untrained state.
  init(rng, D, num_classes) -> (head, extra). views: images encoded per sampled
  image (2: two random augmentations). momentum: EMA rate of a momentum copy of
  the encoder (SMoG), None for none.

  embedding_space: the space the loss compares embeddings in, and so the one
  evaluation measures: "unit" (cosine, ArcFace, Pearson, unit-norm triplet) or
  "raw" (-||.||^2). pools_in_loss: the loss pools raw item embeddings into
  groups (then, in the unit space, normalises the pooled vector); otherwise
  groups exist only at evaluation and are pooled from items in the space."""
  loss: Callable
  init: Callable = _no_head
  views: int = 1
  momentum: Optional[float] = None
  embedding_space: str = None  # required: "unit" | "raw"
  pooling_params: Callable = lambda head: None  # head -> learned pooling's
  pools_in_loss: bool = False

  def __post_init__(self):
    if self.embedding_space not in EMBEDDING_SPACES:
      raise ValueError(f"A Method states its embedding_space, one of "
                       f"{EMBEDDING_SPACES}; got {self.embedding_space!r}.")


def space_of_similarity(similarity: str) -> str:
  """The embedding space a pairwise similarity compares vectors in."""
  return "unit" if similarity == "cosine" else "raw"


# Imported after Method and Batch, which the modules use.
from grouprep.methods import baselines  # noqa: E402
from grouprep.methods import group_contrastive  # noqa: E402
from grouprep.methods import group_loss  # noqa: E402
from grouprep.methods import groupface  # noqa: E402
from grouprep.methods import protonet  # noqa: E402
from grouprep.methods import smog  # noqa: E402

METHODS: Dict[str, Callable[[Any], Method]] = {
    "group_item": group_contrastive.make_group_item,
    "group_group": group_contrastive.make_group_group,
    "protonet": protonet.make,
    "item_item": baselines.make_item_item,
    "triplet": baselines.make_triplet,
    "smog": smog.make,
    "groupface": groupface.make,
    "group_loss": group_loss.make,
}


def get_method(loss_config) -> Method:
  """The Method for config.loss."""
  if loss_config.name not in METHODS:
    raise ValueError(f"config.loss.name={loss_config.name!r} is not one of "
                     f"{sorted(METHODS)}.")
  return METHODS[loss_config.name](loss_config)
