"""The training methods by name (`config.loss.name`).

The interface (`Method`, `Batch`) is in interface.py, each method in its own
module. Add a method by writing a module with a `make(loss_config) -> Method`
and naming it in `METHODS`.
"""
import dataclasses
from typing import Callable, Dict

from grouprep.methods import baselines
from grouprep.methods import group_contrastive
from grouprep.methods import group_loss
from grouprep.methods import groupface
from grouprep.methods import protonet
from grouprep.methods import smog
from grouprep.methods.interface import Method

METHODS: Dict[str, Callable[..., Method]] = {
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
  method = METHODS[loss_config.name](loss_config)
  if loss_config.get("augment", False) and method.augmentations == 0:
    # One random view of each image instead of the image (methods that
    # contrast two views augment already).
    method = dataclasses.replace(method, augmentations=1)
  return method
