"""Prototypical Networks (Snell et al., 2017) on the Vinyals split.

Classes are (character, rotation) pairs of Vinyals trainval (4,800 classes of
20 drawings). A step is 100-way 1-shot episodes on 100 classes x 6 drawings,
each drawing in turn the support, the others queries scored by -||.||^2.

Command (from the repository root; rerun the same command to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/protonet.py --workdir=runs/protonet
Smoke (--config=configs/protonet.py:smoke): 163 s end to end (measured while
other jobs shared the cores).

Measured on the 2-core CPU (2026-11-29, jax 0.10.2, 2 devices, other jobs
sharing the cores): stopped at step 4500 of 8,000 after 65 min of training
(the run resumes with the same command), evaluation 100 s. Vinyals test
(1000 episodes, 15 queries per class):
  5-way 1-shot 0.9853 +- 0.0018   (paper 0.988)
  5-way 5-shot 0.9965 +- 0.0007   (paper 0.997)
  20-way 1-shot 0.9554 +- 0.0016  (paper 0.960)
  20-way 5-shot 0.9888 +- 0.0006  (paper 0.989)
The 12 unseen alphabets, raw space: rotation ratio 1.19, disjoint-character
recall@1 with all drawings 0.967 +- 0.019 (untrained 0.885 +- 0.036); Lake's
runs 09-20 error 0.075 (untrained 0.767).
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
  config.eval.fewshot_queries = 15
  if arg == "smoke":
    config.data.classes_per_batch = 20
    config.train.num_steps = 30
    config.train.decay_every = 10
    config.train.checkpoint_every = 10
    config.train.log_every = 10
    config.eval.every = 15
    config.eval.during_training_episodes = 50
  return config
