"""Batch-hard triplet loss (Hermans et al., 2017): the item-level baseline in
the setting of Theorem 1.

Every drawing is labelled by its alphabet; each anchor's farthest same-alphabet
and nearest other-alphabet drawings enter a hinge with margin 0.2 on distances
between unit-norm embeddings. Groups are evaluated as centroids.

Command:
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/triplet.py --workdir=runs/triplet
Smoke (--config=configs/triplet.py:smoke): 63 s end to end (measured while other
jobs shared the cores).

Measured on the 2-core CPU (2026-11-29, jax 0.10.2, 2 devices, seed 0): 500
steps in 206 s, evaluation 185 s. In the unit space, unseen alphabets (test):
rotation groups ratio 1.23 (untrained 1.09); disjoint characters ratio 2.13
(untrained 2.99), group recall@1 at 5 drawings 0.085 ± 0.024 (untrained
0.221 ± 0.035), at all drawings 0.892 ± 0.028 (untrained 0.900 ± 0.020); 20-way
1-shot 0.194 ± 0.003; Lake's runs error 0.840; Theorem 1: m 0.03 on training
groups, 0.03 on these; ordered triplets 0.526 (untrained 0.540). Held-out
characters (validation): rotation ratio 1.19, disjoint-character recall@1 at all
drawings 0.289 ± 0.021 (untrained 0.266 ± 0.018). Training shared the 2 cores
with other runs and evaluations, so its seconds are an upper bound.
In its own (unit) space this encoder has collapsed (results/NOTES.md).

The study (`python -m grouprep.study --seeds=0,1,2`: 2000 steps, seeds 0, 1, 2,
2-core CPU, 2026-11-29/30; mean ± sd, unseen alphabets, unit space): rotation
ratio 1.25 ± 0.02; disjoint-character recall@1 at 5 drawings 0.070 ± 0.007, at
all 0.867 ± 0.022; 20-way 1-shot 0.151 ± 0.005; Lake's error 0.870 ± 0.019;
held-out rotation ratio 1.24 ± 0.03 (results/summary.md; comparisons in
results/study_paired.md).
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
