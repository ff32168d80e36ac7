"""Group-item InfoNCE with soft medoid pooling (beyond the note).

As gi_centroid, but a group's embedding is its soft medoid: the members
weighted by softmax(-summed distance / (0.1 * its mean)), between the medoid
(temperature -> 0) and the centroid.

Command (from the repository root; rerun it to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gi_soft_medoid.py --workdir=runs/gi_soft_medoid
Smoke: --config=configs/gi_soft_medoid.py:smoke, about a minute end to end.

Cost (the note's study, `python -m projects.group_note.study`, at its own step
count, not the command above's; results/study_metrics.json): 2000 steps trained
in 587 s (paced) and evaluated in 66 s (as those runs' code evaluated;
docs/performance.md times today's) on the 2-core CPU, mean of 3 seeds. Its row:
results/summary.md; its comparisons: results/study_paired.md.
One of its runs as the study trained it (its seed 0):
  python -m grouprep.main --config=configs/gi_soft_medoid.py \
    --workdir=runs/gi_soft_medoid_seed0 --config.seed=0 \
    --config.train.num_steps=2000
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_soft_medoid"
  config.loss.name = "group_item"
  config.loss.pooling = "soft_medoid"
  return config
