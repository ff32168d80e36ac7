"""SMoG, Synchronous Momentum Grouping (Pang et al., ECCV 2022). Unsupervised.

A momentum encoder assigns each of two augmentations of 128 unlabelled images
to one of K=256 prototypes (moved by momentum, re-grouped by k-means), which
the other augmentation must pick out by group-item InfoNCE. Groups are
evaluated as centroids.

Command (from the repository root; rerun it to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/smog.py --workdir=runs/smog
Smoke: --config=configs/smog.py:smoke, about a minute end to end.

Cost (the note's study, `python -m projects.group_note.study`, at its own step
count, not the command above's; results/study_metrics.json): 2000 steps trained
in 773 s (paced) and evaluated in 54 s (as those runs' code evaluated;
docs/performance.md times today's) on the 2-core CPU, mean of 3 seeds. Its row:
results/summary.md; its comparisons: results/study_paired.md.
One of its runs as the study trained it (its seed 0):
  python -m grouprep.main --config=configs/smog.py --workdir=runs/smog_seed0 \
    --config.seed=0 --config.train.num_steps=2000
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "smog"
  config.data.label_key = "image"
  config.data.classes_per_batch = 128
  config.data.groups_per_class = 1
  config.data.items_per_group = 1
  # An MLP projection head: Conv-4's ReLU features all lie in the positive
  # orthant, where random prototypes leave most groups empty.
  config.model.embed_dim = 64
  config.loss.name = "smog"
  config.loss.pooling = "centroid"
  config.loss.temperature = 0.1
  config.loss.num_prototypes = 256
  config.loss.prototype_momentum = 0.99
  config.loss.encoder_momentum = 0.99
  config.loss.memory_size = 4096
  config.loss.regroup_every = 100
  config.loss.regroup_first = 20  # the first grouping, once memory fills
  config.loss.kmeans_iterations = 10
  if arg == "smoke":
    config.data.classes_per_batch = 64
    config.loss.num_prototypes = 64
    config.loss.memory_size = 512
    config.loss.regroup_every = 10
    config.loss.regroup_first = 5
  return config
