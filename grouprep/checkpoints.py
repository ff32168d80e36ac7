"""Orbax checkpoints of the train state in `WORKDIR/checkpoints`.

Each checkpoint holds the state, the config that wrote it and a small JSON
item of facts about the training data that the config alone does not fix
(`metadata`: the number of training classes and groups, which size heads
and tables, and a summary of the dataset), so that grouprep.load needs no
dataset. Checkpoints written before metadata existed have none. Saves are
atomic (Orbax writes a temporary directory and renames it), so a failed or
interrupted save never replaces the last good checkpoint; an unreadable
latest checkpoint falls back to the one before it. Training saves in the
background (manager(..., async_save=True)): `save` returns once the state
is handed over, the next save or `finish` waits for it, and a failure in
the background is reported by them as the same CheckpointError.
"""
import logging
import os
import sys
import weakref
from typing import Any, Callable, Optional, Tuple

import jax
import numpy as np
import orbax.checkpoint as ocp

from grouprep.errors import CheckpointError


# Fields that fix the meaning of the saved state and the batches that follow
# it: a checkpoint whose values differ cannot be resumed by this config.
# (train.num_steps may change where the schedule does not read it: that
# extends or shortens a run.)
IDENTITY_FIELDS = (
    "name", "seed", "model", "loss", "train.optimizer",
    # The schedule: a run resumed under another learning rate is not the run
    # its config describes. The fields only one schedule reads:
    # SCHEDULE_FIELDS.
    "train.learning_rate", "train.schedule", "train.weight_decay",
    "data.source",
    "data.heldout_label_fraction", "data.strokes", "data.train_split",
    "data.image_size", "data.label_key",
    "data.group_key", "data.group_size", "data.heldout_fraction",
    "data.charsets_per_alphabet",
    "data.classes_per_batch", "data.groups_per_class", "data.items_per_group",
    "train.matmul_precision")
# train.schedule -> the fields it reads besides the learning rate (an
# unused field may change without changing the run). The cosine schedule
# decays to 0 over train.num_steps, so a cosine run resumed at another
# length would be two schedules spliced, not the run its config describes.
SCHEDULE_FIELDS = {"cosine": ("train.warmup_steps", "train.num_steps"),
                   "step": ("train.decay_every", "train.decay_factor")}
# Evaluation may change how groups are pooled, not what was trained, which
# characters were held out (the seed and the fraction define them), nor what
# decides the embedding space and what the encoder saw (so what is left out
# of its evaluation as trained on).
EVAL_IDENTITY_FIELDS = (
    "name", "seed", "model", "data.image_size", "data.heldout_fraction",
    "data.source", "data.heldout_label_fraction", "data.strokes",
    "data.train_split", "data.label_key", "data.group_key",
    "data.charsets_per_alphabet", "loss.name", "loss.similarity",
    "loss.normalize")


def _this_process_only() -> ocp.options.MultiprocessingOptions:
  """Barriers that wait for this process alone: a reader such as evaluation,
  which process 0 runs alone, must not wait for processes that are not
  reading (training's managers wait for every process)."""
  if jax.process_count() == 1:
    return ocp.options.MultiprocessingOptions()
  me = jax.process_index()
  return ocp.options.MultiprocessingOptions(
      primary_host=me, active_processes={me},
      barrier_sync_key_prefix=f"reader{me}")


def agree_on_step(step: Optional[int], where: str) -> None:
  """Every process of a multi-process run resumes from the same step: a
  CheckpointError naming each process's step when they differ (a process
  that saw the shared folder late, or could not read its newest
  checkpoint), before any of them trains or deletes a checkpoint."""
  if jax.process_count() == 1:
    return
  from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
  steps = np.asarray(multihost_utils.process_allgather(
      np.int64(-1 if step is None else step))).ravel().tolist()
  if len(set(steps)) > 1:
    shown = ", ".join(f"process {i}: {'none' if s < 0 else 'step ' + str(s)}"
                      for i, s in enumerate(steps))
    raise CheckpointError(
        f"The processes found different latest checkpoints in {where} "
        f"({shown}): every process must read the same shared workdir. Rerun "
        f"once all of them see the same checkpoints.")


def no_checkpoint(workdir: str) -> CheckpointError:
  return CheckpointError(
      f"No checkpoint in {os.path.join(workdir, 'checkpoints')}: train first "
      f"(python -m grouprep.main --config=... --workdir={workdir}).")


def manager(workdir: str, keep: int = 3,
            async_save: bool = False) -> ocp.CheckpointManager:
  """The checkpoints of WORKDIR/checkpoints, saved and restored by every
  process together; async_save: saves write in a background thread (call
  `finish` before the manager's last use)."""
  return ocp.CheckpointManager(
      os.path.abspath(os.path.join(workdir, "checkpoints")),
      options=ocp.CheckpointManagerOptions(
          max_to_keep=keep, create=True, enable_async_checkpointing=async_save))


def read_only_manager(workdir: str) -> ocp.CheckpointManager:
  """A manager that reads WORKDIR/checkpoints and never writes (a
  CheckpointError when there is no such folder)."""
  directory = os.path.abspath(os.path.join(workdir, "checkpoints"))
  if not os.path.isdir(directory):
    raise CheckpointError(
        f"No checkpoints in {workdir}: {directory} does not exist (train "
        f"first: python -m grouprep.main --config=... --workdir={workdir}).")
  absl_logger = logging.getLogger("absl")
  level = absl_logger.level
  absl_logger.setLevel(logging.ERROR)  # Orbax's notes on read-only mode
  try:
    return ocp.CheckpointManager(
        directory, options=ocp.CheckpointManagerOptions(
            read_only=True, create=False, enable_async_checkpointing=False,
            multiprocessing_options=_this_process_only()))
  finally:
    absl_logger.setLevel(level)


# The step each manager is saving (or last saved), for the message of a
# failure that a later call reports.
_SAVING = weakref.WeakKeyDictionary()


def _save_failed(mngr: ocp.CheckpointManager, step: int,
                 error: BaseException) -> CheckpointError:
  """The error of a failed save of `step`, naming the newest checkpoint that
  was finished (on the disk; a failed one never is)."""
  try:
    mngr.wait_until_finished()
    mngr.reload()
  except Exception:  # pylint: disable=broad-except
    pass
  good = [s for s in mngr.all_steps() if s != step]
  return CheckpointError(
      f"Could not save the checkpoint of step {step} in {mngr.directory}: "
      f"{type(error).__name__}: {error}. The last good checkpoint "
      f"({'step ' + str(max(good)) if good else 'none'}) is untouched; free "
      f"disk space or fix permissions and rerun the same command to resume.")


def finish(mngr: ocp.CheckpointManager) -> None:
  """Waits for a save still writing in the background; a CheckpointError
  (the last good checkpoint named) if it failed."""
  try:
    mngr.wait_until_finished()
  except Exception as e:  # pylint: disable=broad-except
    raise _save_failed(mngr, _SAVING.get(mngr), e) from e


def save(mngr: ocp.CheckpointManager, step: int, state: Any,
         config_dict: dict, metadata: Optional[dict] = None) -> None:
  """Saves state at step (with metadata, a JSON-able dict, when given); a
  clear CheckpointError if the disk refuses. With an asynchronous manager
  it returns while the files are written: `state` must be a host copy that
  nothing changes afterwards (train.unreplicate's)."""
  finish(mngr)  # the previous save's failure is reported as its own
  items = dict(state=ocp.args.StandardSave(state),
               config=ocp.args.JsonSave(config_dict))
  if metadata is not None:
    items["metadata"] = ocp.args.JsonSave(metadata)
  _SAVING[mngr] = step
  try:
    mngr.save(step, args=ocp.args.Composite(**items), force=True)
  except Exception as e:  # pylint: disable=broad-except
    raise _save_failed(mngr, step, e) from e


def lookup(d: dict, dotted: str):
  for key in dotted.split("."):
    d = d.get(key) if isinstance(d, dict) else None
  return d


# Identity fields added after checkpoints existed, with the value every
# older checkpoint was written under (absent there = this value): before
# data.source, every checkpoint was trained on Omniglot; before loss.augment,
# on the images themselves; before train.matmul_precision, on CPUs, where
# every precision computes in float32.
ADDED_LATER = {"loss.candidates": "batch", "data.source": "omniglot",
               "loss.augment": False, "train.matmul_precision": "highest"}
# Leaves of identity sections that change no saved quantity (memory only).
IGNORED = ("loss.streaming_above",)


def _leaves(d, prefix):
  """{dotted field: value} of a config (sub)dict; a leaf is itself."""
  if not isinstance(d, dict):
    return {prefix: list(d) if isinstance(d, tuple) else d}
  out = {}
  for k, v in d.items():
    out.update(_leaves(v, f"{prefix}.{k}"))
  return out


def _check_identity(saved, config_dict, step, where, fields,
                    added_later=None, what=None) -> None:
  added_later = {**ADDED_LATER, **(added_later or {})}
  what = what or f"The checkpoint at step {step} in {where}"
  if "train.schedule" in fields:
    fields = tuple(fields) + SCHEDULE_FIELDS.get(
        lookup(config_dict, "train.schedule"), ())
  for field in fields:
    here = _leaves(lookup(config_dict, field), field)
    there = lookup(saved, field)
    there = {} if there is None else _leaves(there, field)
    for leaf, value in here.items():
      if leaf in IGNORED:
        continue
      if leaf in there:
        old = there[leaf]
      elif leaf in added_later:
        old = added_later[leaf]
      elif isinstance(lookup(saved, leaf.rpartition(".")[0]), dict):
        continue  # a field newer than the checkpoint: it had the default then
      else:
        old = None  # the checkpoint's config lacks the whole section
      if old != value:
        why = (" A cosine schedule decays to 0 over train.num_steps, so "
               "its length is part of the run."
               if leaf == "train.num_steps" and lookup(
                   config_dict, "train.schedule") == "cosine" else "")
        raise CheckpointError(
            f"{what} was written by another "
            f"configuration: config.{leaf}={old!r} there, {value!r} here."
            f"{why}", "Use a fresh --workdir, or the config that wrote it.")


def check_shapes(restored: Any, expected: Any, where: str, step: int,
                 hint: str = "use the config that wrote it") -> None:
  """A CheckpointError if a tree restored without a target (evaluation) does
  not have the shapes the config's model gives."""
  shapes = lambda tree: {jax.tree_util.keystr(p): np.shape(x) for p, x in
                         jax.tree_util.tree_leaves_with_path(tree)}
  got, want = shapes(restored), shapes(expected)
  if got != want:
    diff = [f"{p}: {got.get(p)} there, {want.get(p)} here"
            for p in sorted(set(got) | set(want)) if got.get(p) != want.get(p)]
    raise CheckpointError(
        f"The checkpoint at step {step} in {where} holds an encoder of other "
        f"shapes than the config builds (config.model; a learned pooling's "
        f"head: its config.loss section) ({'; '.join(diff[:3])}); {hint}.")


# What a grouprep train state holds that evaluation and grouprep.load read.
STATE_KEYS = ("params/encoder", "params/head", "batch_stats")


def check_state_keys(state: Any, where: str, step: int) -> None:
  """A CheckpointError naming the keys of STATE_KEYS a state restored
  without a target lacks (another program's checkpoint, or a damaged one)."""
  missing = []
  for key in STATE_KEYS:
    node = state
    for part in key.split("/"):
      node = node.get(part) if isinstance(node, dict) else None
    if node is None:
      missing.append(key)
  if missing:
    found = sorted(state) if isinstance(state, dict) else type(state).__name__
    raise CheckpointError(
        f"The checkpoint at step {step} in {where} is not a grouprep train "
        f"state: it lacks {', '.join(missing)} (its state holds {found}). It "
        f"was written by another program or damaged; use a checkpoint "
        f"written by python -m grouprep.main, or retrain.")


def _restore_newest(mngr: ocp.CheckpointManager, abstract_state: Any,
                    check: Callable[[dict, int], None]
                    ) -> Tuple[Optional[int], Optional[dict], Any]:
  """(step, saved config, state) of the newest readable checkpoint, (None,
  None, None) if none; check(saved config, step) raises for one that must
  not be used. An unreadable checkpoint (truncated, corrupt) is skipped with
  a warning for the one before it."""
  steps = sorted(mngr.all_steps(), reverse=True)
  failures = []
  for step in steps:
    try:
      saved = mngr.restore(step, args=ocp.args.Composite(
          config=ocp.args.JsonRestore()))["config"]
    except Exception as e:  # pylint: disable=broad-except
      saved, error = None, e
    if saved is not None:
      check(saved, step)
      try:
        restored = mngr.restore(step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(abstract_state)))
      except Exception as e:  # pylint: disable=broad-except
        error = e
      else:
        if abstract_state is None:  # restored as saved: check what it is
          check_state_keys(restored["state"], mngr.directory, step)
        return step, saved, restored["state"]
    failures.append(f"step {step}: {type(error).__name__}: {error}")
    print(f"grouprep: warning: the checkpoint at step {step} in "
          f"{mngr.directory} is unreadable ({type(error).__name__}); trying "
          f"an earlier one.", file=sys.stderr, flush=True)
  if failures:
    raise CheckpointError(
        f"No readable checkpoint in {mngr.directory}: " + "; ".join(
            f[:300] for f in failures) + ". Move the directory away to start "
        f"afresh.")
  return None, None, None


def restore_latest(mngr: ocp.CheckpointManager, abstract_state: Any,
                   config_dict: dict, fields=IDENTITY_FIELDS,
                   added_later: Optional[dict] = None
                   ) -> Tuple[Optional[int], Any]:
  """(step, state) of the newest readable checkpoint; (None, None) if none.

  A checkpoint of another configuration is an error. An unreadable one
  (truncated, corrupt) is skipped with a warning for the one before it.
  added_later: {dotted field: the value a checkpoint written before the
  field existed was trained under}, beside ADDED_LATER's (a caller's own
  fields, e.g. a project's model settings).
  """
  step, _, state = _restore_newest(
      mngr, abstract_state, lambda saved, step: _check_identity(
          saved, config_dict, step, mngr.directory, fields, added_later))
  return step, state


def check_same_run(saved_config: dict, config_dict: dict, what: str,
                   fields=IDENTITY_FIELDS) -> None:
  """A CheckpointError (naming the first differing field) unless
  saved_config (a config dict recorded with a run's outcome; `what` names
  that record) describes the run config_dict does."""
  _check_identity(saved_config, config_dict, None, None, fields, what=what)


def saved_config(workdir: str) -> Optional[Tuple[int, dict]]:
  """(step, config dict) of the newest readable checkpoint of WORKDIR (the
  whole config that wrote it), or None where it has none readable."""
  if not os.path.isdir(os.path.join(workdir, "checkpoints")):
    return None
  mngr = read_only_manager(workdir)
  for step in sorted(mngr.all_steps(), reverse=True):
    try:
      return step, mngr.restore(step, args=ocp.args.Composite(
          config=ocp.args.JsonRestore()))["config"]
    except Exception:  # pylint: disable=broad-except
      continue  # unreadable: the one before it tells
  if mngr.all_steps():
    print(f"grouprep: warning: no readable checkpoint in {mngr.directory} "
          "tells which configuration wrote it; not checked.",
          file=sys.stderr, flush=True)
  return None


def check_written_by(workdir: str, config_dict: dict,
                     fields=IDENTITY_FIELDS) -> None:
  """A CheckpointError (naming the first differing field) unless the newest
  checkpoint of WORKDIR was written by this configuration; nothing to check
  where WORKDIR has no checkpoint. For a finished run that would otherwise
  be taken as this config's (a sweep's skip) without restoring it."""
  saved = saved_config(workdir)
  if saved is not None:
    step, config = saved
    _check_identity(config, config_dict, step,
                    os.path.abspath(os.path.join(workdir, "checkpoints")),
                    fields)


def restore_saved(mngr: ocp.CheckpointManager
                  ) -> Tuple[Optional[int], Optional[dict], Any]:
  """(step, the config dict that wrote it, state as saved) of the newest
  readable checkpoint, for a reader that brings no config (grouprep.load)."""
  return _restore_newest(mngr, None, lambda saved, step: None)


def read_metadata(mngr: ocp.CheckpointManager, step: int) -> Optional[dict]:
  """The metadata item of the checkpoint at step; None for a checkpoint
  written before grouprep stored it (no such item); a CheckpointError when
  the item is there but unreadable."""
  item = os.path.join(str(mngr.directory), str(step), "metadata")
  if not os.path.exists(item):
    return None
  try:
    metadata = mngr.restore(step, args=ocp.args.Composite(
        metadata=ocp.args.JsonRestore()))["metadata"]
  except Exception as e:  # pylint: disable=broad-except
    metadata, error = None, f"{type(e).__name__}: {e}"
  else:
    error = f"a {type(metadata).__name__}, not a JSON object"
  if not isinstance(metadata, dict):
    raise CheckpointError(
        f"The metadata of the checkpoint at step {step} in {mngr.directory} "
        f"is unreadable ({str(error)[:300]}): the checkpoint is damaged. Move "
        f"{os.path.join(str(mngr.directory), str(step))} away to use the one "
        f"before it, or retrain.")
  return metadata


def check_dataset(metadata: Optional[dict], dataset: dict, where: str,
                  step: int) -> None:
  """A CheckpointError when the dataset summary a checkpoint recorded
  (the data source's summary) differs from today's in what decides which
  labels were trained on; nothing to compare for an older checkpoint."""
  saved = (metadata or {}).get("dataset")
  if not saved:
    return
  for key in ("source", "labels", "heldout_labels"):
    if saved.get(key) != dataset.get(key):
      def shown(v):
        return (f"{len(v)} labels" if isinstance(v, list) and len(v) > 6
                else repr(v))
      raise CheckpointError(
          f"The checkpoint at step {step} in {where} was trained on other "
          f"data: its dataset's {key} was {shown(saved.get(key))}, now "
          f"{shown(dataset.get(key))} (the held-out labels are chosen from "
          f"the labels, so evaluating or resuming would mix labels it was "
          f"trained on into the evaluation).",
          "Use the dataset it was trained on, or a fresh --workdir.")
