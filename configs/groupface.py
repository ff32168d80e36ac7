"""GroupFace (Kim et al., CVPR 2020) on the note's batches.

Conv-4 with GroupFace's head (K=16 latent groups), trained with ArcFace over
the 30 training alphabets + 0.1 * CE towards self-distributed (balanced)
latent-group labels. Groups are evaluated as centroids of its embeddings.

Command (from the repository root; rerun it to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/groupface.py --workdir=runs/groupface
Smoke: --config=configs/groupface.py:smoke, about a minute end to end.

Cost (the note's study, `python -m projects.group_note.study`, at its own step
count, not the command above's; results/study_metrics.json): 2000 steps trained
in 598 s (paced) and evaluated in 57 s (as those runs' code evaluated;
docs/performance.md times today's) on the 2-core CPU, mean of 3 seeds. Its row:
results/summary.md; its comparisons: results/study_paired.md.
One of its runs as the study trained it (its seed 0):
  python -m grouprep.main --config=configs/groupface.py \
    --workdir=runs/groupface_seed0 --config.seed=0 \
    --config.train.num_steps=2000
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "groupface"
  config.model.name = "conv4_groupface"
  config.model.num_groups = 16
  config.loss.name = "groupface"
  config.loss.pooling = "centroid"
  config.loss.arcface_scale = 16.0
  config.loss.arcface_margin = 0.2
  config.loss.groupface_lambda = 0.1
  return config
