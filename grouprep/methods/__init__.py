"""Training methods, chosen by `config.loss.name`.

A method turns the global batch of item embeddings z: [C, V, M, D] (row c of
class c, V groups of M items each) into a scalar loss and a dict of metrics.
Register a new method by adding its module's `loss_fn` to `METHODS`.
"""
from grouprep.methods import group_contrastive
from grouprep.methods import protonet

METHODS = {
    "group_item": group_contrastive.group_item_loss,
    "group_group": group_contrastive.group_group_loss,
    "protonet": protonet.protonet_loss,
}


def get_loss_fn(loss_config):
  """`fn(z [C, V, M, D]) -> (loss, metrics)` for config.loss."""
  if loss_config.name not in METHODS:
    raise ValueError(f"config.loss.name={loss_config.name!r} is not one of "
                     f"{sorted(METHODS)}.")
  return METHODS[loss_config.name](loss_config)
