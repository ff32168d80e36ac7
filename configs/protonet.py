"""Prototypical Networks (Snell et al., 2017) on the Vinyals split.

Classes are (character, rotation) pairs of Vinyals trainval (4,800 classes of
20 drawings). A step is 100-way 1-shot episodes on 100 classes x 6 drawings,
each drawing in turn the support, the others queries scored by -||.||^2.

Command (from the repository root; rerun it to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/protonet.py --workdir=runs/protonet
Smoke: --config=configs/protonet.py:smoke, a few minutes end to end.

Cost: hours on a 2-core CPU (8,000 steps). Not in the note's study; its
runs, their training time and Vinyals-test accuracy against the paper's:
results/NOTES.md (configs/protonet.py and the README's history).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "protonet"
  config.data.train_split = "vinyals_trainval"
  config.data.group_size = 1  # every drawing its own group: 1-shot episodes
  config.data.classes_per_batch = 100
  config.data.groups_per_class = 6
  config.data.items_per_group = 1
  config.loss.name = "protonet"
  config.loss.pooling = "centroid"
  config.loss.similarity = "neg_sq_euclidean"
  config.loss.temperature = 1.0
  config.train.num_steps = 8000
  config.train.schedule = "step"
  config.train.decay_every = 1600
  config.train.checkpoint_every = 250
  config.train.log_every = 50
  config.eval.every = 500
  config.evals.fewshot.queries = 15
  config.eval.during_training.fewshot.queries = 15
  if arg == "smoke":
    config.data.classes_per_batch = 20
    config.train.num_steps = 30
    config.train.decay_every = 10
    config.train.checkpoint_every = 10
    config.train.log_every = 10
    config.eval.every = 15
    config.eval.during_training.fewshot.episodes = 50
  return config
