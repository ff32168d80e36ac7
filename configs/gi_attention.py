"""Group-item InfoNCE with attention pooling (beyond the note).

As gi_centroid, but a group's embedding is its attention pooling: a learned
query scores each member (weights softmax(q . W_k z / sqrt(D)), W_k starting
at zero, i.e. at the centroid) and the group is their weighted mean.

Command (from the repository root; rerun it to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gi_attention.py --workdir=runs/gi_attention
Smoke: --config=configs/gi_attention.py:smoke, about a minute end to end.

Cost (the note's study, `python -m projects.group_note.study`, at its own step
count, not the command above's; results/study_metrics.json): 2000 steps trained
in 590 s (paced) and evaluated in 63 s (as those runs' code evaluated;
docs/performance.md times today's) on the 2-core CPU, mean of 3 seeds. Its row:
results/summary.md; its comparisons: results/study_paired.md.
One of its runs as the study trained it (its seed 0):
  python -m grouprep.main --config=configs/gi_attention.py \
    --workdir=runs/gi_attention_seed0 --config.seed=0 \
    --config.train.num_steps=2000
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_attention"
  config.loss.name = "group_item"
  config.loss.pooling = "attention"
  return config
