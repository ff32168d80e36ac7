"""Item-item InfoNCE (seed eq. 1): instance discrimination, unsupervised.

Every training image is its own class (128 a batch, labels unused): its two
augmented views are pulled together and pushed from the other images' views.
Groups are evaluated as centroids.

Command:
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/item_item.py --workdir=runs/item_item
Smoke (--config=configs/item_item.py:smoke): 74 s end to end (measured while
other jobs shared the cores).

Measured on the 2-core CPU (2026-11-29, jax 0.10.2, 2 devices, seed 0): 500
steps in 227 s, evaluation 176 s. In the unit space, unseen alphabets (test):
rotation groups ratio 1.25 (untrained 1.09); disjoint characters ratio 2.59
(untrained 2.99), group recall@1 at 5 drawings 0.341 ± 0.041 (untrained
0.221 ± 0.035), at all drawings 0.930 ± 0.017 (untrained 0.900 ± 0.020); 20-way
1-shot 0.666 ± 0.004; Lake's runs error 0.465; Theorem 1: m 1.33 on training
groups, 1.31 on these; ordered triplets 0.586 (untrained 0.540). Held-out
characters (validation): rotation ratio 1.16, disjoint-character recall@1 at all
drawings 0.314 ± 0.018 (untrained 0.266 ± 0.018). Training shared the 2 cores
with other runs and evaluations, so its seconds are an upper bound.

The study (`python -m grouprep.study --seeds=0,1,2`: 2000 steps, seeds 0, 1, 2,
2-core CPU, 2026-11-29/30; mean ± sd, unseen alphabets, unit space): rotation
ratio 1.23 ± 0.00; disjoint-character recall@1 at 5 drawings 0.380 ± 0.027, at
all 0.948 ± 0.015; 20-way 1-shot 0.672 ± 0.004; Lake's error 0.451 ± 0.016;
held-out rotation ratio 1.15 ± 0.01 (results/summary.md; comparisons in
results/study_paired.md).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "item_item"
  config.data.label_key = "image"
  config.data.classes_per_batch = 128
  config.data.groups_per_class = 1
  config.data.items_per_group = 1
  config.loss.name = "item_item"
  config.loss.pooling = "centroid"
  if arg == "smoke":
    config.data.classes_per_batch = 64
  return config
