"""Trains one counting network, then reads its test sets once.

  python -m projects.set_counting.main \\
      --config=projects/set_counting/configs/sab_pma.py \\
      --workdir=runs/set_counting/sab_pma/seed0 --config.seed=0

Run it again after an interruption and it resumes from the last checkpoint.
"""
from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from projects.set_counting import train

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file(
    "config", None, "A config file, optionally NAME.py:smoke.",
    lock_config=True)
flags.DEFINE_string("workdir", None, "Checkpoints, log.jsonl, metrics.json.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if not FLAGS["verbosity"].present:
    logging.set_verbosity(logging.WARNING)  # Orbax's INFO chatter off
  train.train_and_evaluate(FLAGS.config, FLAGS.workdir)


if __name__ == "__main__":
  app.run(main)
