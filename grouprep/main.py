"""grouprep's entry point: flags -> train and/or evaluate.

  python -m grouprep.main --config=configs/gi_centroid.py --workdir=DIR
"""
import sys

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
flags.mark_flags_as_required(["config", "workdir"])



def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  from grouprep import checkpoints, validation  # pylint: disable=g-import-not-at-top
  from grouprep.data import omniglot, sampler  # pylint: disable=g-import-not-at-top
  user_errors = (validation.ConfigError, checkpoints.CheckpointError,
                 omniglot.DataError, sampler.BatchShapeError,
                 train.NonFiniteLossError)
  if not FLAGS["verbosity"].present:
    logging.set_verbosity(logging.WARNING)  # libraries' INFO chatter off
  config = FLAGS.config
  try:
    if FLAGS.mode in ("train", "train_and_eval"):
      train.train(config, FLAGS.workdir)
    if FLAGS.mode in ("eval", "train_and_eval"):
      evaluate.evaluate(config, FLAGS.workdir)
  except user_errors as e:
    print(f"grouprep: error: {e}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
  app.run(main)
