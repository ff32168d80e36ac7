"""The Group Loss (Elezi et al., ECCV 2020) on the note's batches.

A linear classifier over the 30 training alphabets gives each drawing's
priors, refined by replicator dynamics over the batch's similarities with 2
labelled anchors per alphabet; loss NLL + CE. Groups are evaluated as centroids.

Command (from the repository root; rerun it to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/group_loss.py --workdir=runs/group_loss
Smoke: --config=configs/group_loss.py:smoke, about a minute end to end.

Cost (the note's study, `python -m projects.group_note.study`, at its own step
count, not the command above's; results/study_metrics.json): 2000 steps trained
in 562 s (paced) and evaluated in 56 s (as those runs' code evaluated;
docs/performance.md times today's) on the 2-core CPU, mean of 3 seeds. Its row:
results/summary.md; its comparisons: results/study_paired.md.
One of its runs as the study trained it (its seed 0):
  python -m grouprep.main --config=configs/group_loss.py \
    --workdir=runs/group_loss_seed0 --config.seed=0 \
    --config.train.num_steps=2000
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "group_loss"
  config.loss.name = "group_loss"
  config.loss.pooling = "centroid"
  config.loss.anchors = 2
  config.loss.prior_temperature = 1.0
  config.loss.iterations = 2
  return config
