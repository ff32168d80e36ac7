"""grouprep's entry point: flags -> train and/or evaluate.

  python -m grouprep.main --config=configs/gi_centroid.py --workdir=DIR
"""
import os
import sys
from typing import Optional

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from grouprep import evaluate
from grouprep import train

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file(
    "config", None, "Config file, optionally with an argument: NAME.py:smoke.",
    lock_config=True)
flags.DEFINE_string("workdir", None, "Checkpoints, logs and metrics go here.")
flags.DEFINE_enum("mode", "train_and_eval", ["train_and_eval", "train", "eval"],
                  "What to run.")
flags.DEFINE_string(
    "coordinator_address", os.environ.get("GROUPREP_COORDINATOR_ADDRESS"),
    "Multi-host: host:port of process 0 for jax.distributed.initialize "
    "(default $GROUPREP_COORDINATOR_ADDRESS; unset: one process).")
flags.DEFINE_integer("num_processes",
                     int(os.environ.get("GROUPREP_NUM_PROCESSES", "1")),
                     "Multi-host: number of processes.")
flags.DEFINE_integer("process_id",
                     int(os.environ.get("GROUPREP_PROCESS_ID", "0")),
                     "Multi-host: this process's index.")
flags.mark_flags_as_required(["config", "workdir"])


# How long a process that is done waits at jax.distributed's shutdown for
# the others: process 0 evaluates alone after training (minutes), and a
# process that died is noticed by the heartbeat (100 s), not by this timeout.
SHUTDOWN_TIMEOUT_S = 6 * 3600


def initialize_distributed(coordinator_address, num_processes, process_id):
  """jax.distributed.initialize for several processes, without the persistent
  compilation cache; a no-op for one."""
  if num_processes <= 1 and not coordinator_address:
    return
  import jax  # pylint: disable=g-import-not-at-top
  # Cross-process collectives on CPU devices go through gloo.
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(coordinator_address=coordinator_address,
                             num_processes=num_processes,
                             process_id=process_id,
                             shutdown_timeout_seconds=SHUTDOWN_TIMEOUT_S)
  # Several processes compile afresh: with jax/jaxlib 0.12.1, processes that
  # load their step from the persistent compilation cache hang in its first
  # collective on CPU (measured: 2 processes x 1 CPU device, a warm cache,
  # 0.12.0.1 runs in 13 s, 0.12.1 never returns). Conv-4 compiles in seconds.
  jax.config.update("jax_enable_compilation_cache", False)


def configure_compilation_cache(cache_dir=None) -> Optional[str]:
  """A persistent compilation cache, so a later run loads what an earlier one
  compiled (the same executables, so the same numbers): jax/TAG in the
  grouprep cache (cache_dir, else $GROUPREP_CACHE, else ~/.cache/grouprep;
  TAG names this host's CPU, platform.host_cpu_tag), every
  compilation kept unless $JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS says
  otherwise. A cache JAX already has ($JAX_COMPILATION_CACHE_DIR) is kept.
  Returns the directory in use."""
  import jax  # pylint: disable=g-import-not-at-top
  if jax.config.jax_compilation_cache_dir:
    return jax.config.jax_compilation_cache_dir
  from grouprep import platform  # pylint: disable=g-import-not-at-top
  from grouprep.data import omniglot  # pylint: disable=g-import-not-at-top
  path = os.path.join(cache_dir or omniglot.default_cache_dir(), "jax",
                      platform.host_cpu_tag())
  jax.config.update("jax_compilation_cache_dir", path)
  if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
  return path


def run(config, workdir: str, mode: str = "train_and_eval"):
  """Trains (every process) and/or evaluates (process 0 alone: evaluation
  needs no collectives, and nothing it calls waits for another process).
  Returns the metrics on the process that evaluated, else None."""
  import jax  # pylint: disable=g-import-not-at-top
  if mode in ("train", "train_and_eval"):
    train.train(config, workdir)
  if mode in ("eval", "train_and_eval") and jax.process_index() == 0:
    return evaluate.evaluate(config, workdir)
  return None


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  from grouprep import errors  # pylint: disable=g-import-not-at-top
  if not FLAGS["verbosity"].present:
    logging.set_verbosity(logging.WARNING)  # libraries' INFO chatter off
  config = FLAGS.config
  from grouprep import platform  # pylint: disable=g-import-not-at-top
  platform.configure_cpu_devices(config.num_devices)
  configure_compilation_cache(config.data.cache_dir)
  initialize_distributed(FLAGS.coordinator_address, FLAGS.num_processes,
                         FLAGS.process_id)
  try:
    run(config, FLAGS.workdir, FLAGS.mode)
  except errors.GroupRepError as e:
    print(f"grouprep: error: {e}", file=sys.stderr)
    sys.exit(2)


# Config fields that moved when each evaluator got its own settings: an
# override of the old name is answered with the new one, not a traceback.
RENAMED_FIELDS = {
    "evals": "eval.only (a tuple of names); config.evals now holds each "
             "evaluator's settings, --config.evals.NAME.FIELD",
    "eval.fewshot_episodes": "evals.fewshot.episodes",
    "eval.fewshot_queries": "evals.fewshot.queries",
    "eval.theorem1_items": "evals.theorem1.sampled_items",
    "eval.theorem1_triplets": "evals.theorem1.triplets",
    "eval.charsets_per_alphabet":
        "evals.disjoint_characters.charsets_per_alphabet",
    "eval.size_curve": "evals.disjoint_characters.size_curve",
    "eval.size_curve_resamples": "evals.disjoint_characters.resamples",
    "eval.lake_runs": "evals.lake.runs",
    "eval.during_training_episodes": "eval.during_training.fewshot.episodes",
}


def renamed_override(argv) -> Optional[str]:
  """The message for the first --config.FIELD=... of argv whose FIELD was
  renamed (RENAMED_FIELDS), else None."""
  for arg in argv[1:]:
    if not arg.startswith("--config."):
      continue
    field = arg[len("--config."):].split("=", 1)[0]
    if field in RENAMED_FIELDS:
      return (f"--config.{field}=... has moved: use "
              f"--config.{RENAMED_FIELDS[field]} (docs/configs.md).")
  return None


if __name__ == "__main__":
  message = renamed_override(sys.argv)
  if message:
    print(f"grouprep: error: {message}", file=sys.stderr)
    sys.exit(2)
  app.run(main)
