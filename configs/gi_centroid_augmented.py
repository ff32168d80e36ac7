"""gi_centroid trained on one random affine view of each image.

As gi_centroid, but every sampled image is zoomed (+-15 %) and shifted
(+-10 %) at random before the encoder (config.loss.augment, the transform
item_item and SMoG contrast two of). In the study it separates the group-item
objective from the augmentation when gi_centroid is compared with item_item.

Command (from the repository root):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gi_centroid_augmented.py --workdir=runs/gi_centroid_augmented
Smoke (--config=configs/gi_centroid_augmented.py:smoke): 48 s end to end
(measured while the study trained on the cores).

Not measured at the default 500 steps; the study's 3-seed, 2000-step result
follows (question "augmentation" in results/study_paired.md).

The study (`python -m grouprep.study --seeds=0,1,2`: 2000 steps, seeds 0, 1, 2,
2-core CPU, 2026-11-29/30; mean ± sd, unseen alphabets, unit space): rotation
ratio 5.12 ± 0.15; disjoint-character recall@1 at 5 drawings 0.356 ± 0.022, at
all 0.910 ± 0.022; 20-way 1-shot 0.497 ± 0.012; Lake's error 0.659 ± 0.021;
held-out rotation ratio 5.11 ± 0.07 (results/summary.md; comparisons in
results/study_paired.md).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_centroid_augmented"
  config.loss.name = "group_item"
  config.loss.pooling = "centroid"
  config.loss.augment = True
  return config
