"""Group-item InfoNCE with soft medoid pooling (beyond the note).

As gi_centroid, but a group's embedding is its soft medoid: the members
weighted by softmax(-summed distance / (0.1 * its mean)), between the medoid
(temperature -> 0) and the centroid.

Command:
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gi_soft_medoid.py --workdir=runs/gi_soft_medoid
Smoke (--config=configs/gi_soft_medoid.py:smoke): 85 s end to end (measured
while other jobs shared the cores).

Measured on the 2-core CPU (2026-11-29, jax 0.10.2, 2 devices, seed 0): 500
steps in 141 s, evaluation 150 s. In the unit space, unseen alphabets (test):
rotation groups ratio 4.92 (untrained 1.08); disjoint characters ratio 3.41
(untrained 2.80), group recall@1 at 5 drawings 0.220 ± 0.036 (untrained
0.176 ± 0.028), at all drawings 0.789 ± 0.036 (untrained 0.853 ± 0.023); 20-way
1-shot 0.451 ± 0.004; Lake's runs error 0.657; Theorem 1: m 1.28 on training
groups, 1.24 on these; ordered triplets 0.690 (untrained 0.540). Held-out
characters (validation): rotation ratio 4.35, disjoint-character recall@1 at all
drawings 0.374 ± 0.022 (untrained 0.277 ± 0.014). Training shared the 2 cores
with other runs and evaluations, so its seconds are an upper bound.

The study (`python -m grouprep.study --seeds=0,1,2`: 2000 steps, seeds 0, 1, 2,
2-core CPU, 2026-11-29/30; mean ± sd, unseen alphabets, unit space): rotation
ratio 4.61 ± 0.13; disjoint-character recall@1 at 5 drawings 0.298 ± 0.026, at
all 0.878 ± 0.008; 20-way 1-shot 0.448 ± 0.002; Lake's error 0.700 ± 0.013;
held-out rotation ratio 4.37 ± 0.04 (results/summary.md; comparisons in
results/study_paired.md).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_soft_medoid"
  config.loss.name = "group_item"
  config.loss.pooling = "soft_medoid"
  return config
