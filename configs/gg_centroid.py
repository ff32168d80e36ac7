"""Group-group InfoNCE on centroids (seed eq. 2): the note's 1st configuration.

Groups are the rotated copies (0/90/180/270) of the 30 background alphabets;
each group's centroid is pulled to the centroid of another rotation of its
alphabet and pushed from the other alphabets' centroids.

Command (from the repository root; rerun it to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gg_centroid.py --workdir=runs/gg_centroid
Smoke: --config=configs/gg_centroid.py:smoke, about a minute end to end.

Cost (the note's study, `python -m projects.group_note.study`, at its own step
count, not the command above's; results/study_metrics.json): 2000 steps trained
in 518 s (paced) and evaluated in 58 s (as those runs' code evaluated;
docs/performance.md times today's) on the 2-core CPU, mean of 3 seeds. Its row:
results/summary.md; its comparisons: results/study_paired.md.
One of its runs as the study trained it (its seed 0):
  python -m grouprep.main --config=configs/gg_centroid.py \
    --workdir=runs/gg_centroid_seed0 --config.seed=0 \
    --config.train.num_steps=2000
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gg_centroid"
  config.loss.name = "group_group"
  config.loss.pooling = "centroid"
  return config
