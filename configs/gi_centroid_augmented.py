"""gi_centroid trained on one random affine view of each image.

As gi_centroid, but every sampled image is zoomed (+-15 %) and shifted
(+-10 %) at random before the encoder (config.loss.augment, the transform
item_item and SMoG contrast two of). In the study it separates the group-item
objective from the augmentation when gi_centroid is compared with item_item.

Command (from the repository root; rerun it to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gi_centroid_augmented.py --workdir=runs/gi_centroid_augmented
Smoke: --config=configs/gi_centroid_augmented.py:smoke,
about a minute end to end.

Cost (the note's study, `python -m projects.group_note.study`, at its own step
count, not the command above's; results/study_metrics.json): 2000 steps trained
in 430 s (paced) and evaluated in 39 s (as those runs' code evaluated;
docs/performance.md times today's) on the 2-core CPU, mean of 3 seeds. Its row:
results/summary.md; its comparisons: results/study_paired.md.
One of its runs as the study trained it (its seed 0):
  python -m grouprep.main --config=configs/gi_centroid_augmented.py \
    --workdir=runs/gi_centroid_augmented_seed0 --config.seed=0 \
    --config.train.num_steps=2000
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_centroid_augmented"
  config.loss.name = "group_item"
  config.loss.pooling = "centroid"
  config.loss.augment = True
  return config
