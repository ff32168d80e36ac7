"""Orbax checkpoints of the train state in `WORKDIR/checkpoints`."""
import os
from typing import Any, Optional, Tuple

import orbax.checkpoint as ocp


class CheckpointError(RuntimeError):
  """A checkpoint is missing, unreadable or from another configuration."""


# Fields that change the shapes or meaning of the saved state: a checkpoint
# whose values differ cannot be resumed by this config.
_IDENTITY_FIELDS = ("name", "model", "loss.name")


def manager(workdir: str, keep: int = 3) -> ocp.CheckpointManager:
  return ocp.CheckpointManager(
      os.path.abspath(os.path.join(workdir, "checkpoints")),
      options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True))


def save(mngr: ocp.CheckpointManager, step: int, state: Any,
         config_dict: dict) -> None:
  mngr.save(step, args=ocp.args.Composite(
      state=ocp.args.StandardSave(state),
      config=ocp.args.JsonSave(config_dict)))


def _lookup(d: dict, dotted: str):
  for key in dotted.split("."):
    d = d.get(key) if isinstance(d, dict) else None
  return d


def restore_latest(mngr: ocp.CheckpointManager, abstract_state: Any,
                   config_dict: dict) -> Tuple[Optional[int], Any]:
  """(step, state) of the latest checkpoint, or (None, None) if there is none."""
  step = mngr.latest_step()
  if step is None:
    return None, None
  saved = mngr.restore(step, args=ocp.args.Composite(
      config=ocp.args.JsonRestore()))["config"]
  for field in _IDENTITY_FIELDS:
    if _lookup(saved, field) != _lookup(config_dict, field):
      raise CheckpointError(
          f"The checkpoint at step {step} in {mngr.directory} was written by "
          f"another configuration: {field}={_lookup(saved, field)!r} there, "
          f"{_lookup(config_dict, field)!r} here. Use a fresh --workdir.")
  try:
    restored = mngr.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(abstract_state)))
  except Exception as e:  # pylint: disable=broad-except
    raise CheckpointError(
        f"Cannot restore the checkpoint at step {step} in {mngr.directory}: "
        f"{type(e).__name__}: {e}") from e
  return step, restored["state"]
