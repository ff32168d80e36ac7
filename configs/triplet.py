"""Batch-hard triplet loss (Hermans et al., 2017): the item-level baseline in
the setting of Theorem 1.

Every drawing is labelled by its alphabet; each anchor's farthest same-alphabet
and nearest other-alphabet drawings enter a hinge with margin 0.2 on distances
between unit-norm embeddings. Groups are evaluated as centroids. In its
own (unit) space this encoder collapsed in the untuned 2000-step study at
learning rate 1e-3 (results/NOTES.md); whether it does at the study's tuned
setting: Theorem 1's m in results/summary.md. At that learning rate neither
the margin's second value (0.5) nor the raw space avoided a score under the
untrained encoder's on the held-out characters in short exploratory runs
(results/NOTES.md, 2026-12-06 evening, one seed, 600 steps), so the margin
alone did not cause it; the tuning sweep (results/tuning/triplet.md) shows
how far the learning rate moves it.

Command (from the repository root; rerun it to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/triplet.py --workdir=runs/triplet
Smoke: --config=configs/triplet.py:smoke, about a minute end to end.

Cost (the note's study, `python -m projects.group_note.study`, at its own step
count, not the command above's; results/study_metrics.json): 2000 steps trained
in 525 s (paced) and evaluated in 52 s (as those runs' code evaluated;
docs/performance.md times today's) on the 2-core CPU, mean of 3 seeds. Its row:
results/summary.md; its comparisons: results/study_paired.md.
One of its runs as the study trained it (its seed 0):
  python -m grouprep.main --config=configs/triplet.py \
    --workdir=runs/triplet_seed0 --config.seed=0 \
    --config.train.num_steps=2000
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "triplet"
  config.loss.name = "triplet"
  config.loss.pooling = "centroid"
  config.loss.margin = 0.2
  config.loss.normalize = True  # unit-norm embeddings (FaceNet)
  return config
