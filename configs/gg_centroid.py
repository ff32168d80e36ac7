"""Group-group InfoNCE on centroids (seed eq. 2): the note's 1st configuration.

Groups are the rotated copies (0/90/180/270) of the 30 background alphabets;
each group's centroid is pulled to the centroid of another rotation of its
alphabet and pushed from the other alphabets' centroids.

Command (from the repository root):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gg_centroid.py --workdir=runs/gg_centroid
Smoke (--config=configs/gg_centroid.py:smoke): 43 s end to end (measured while
other jobs shared the cores).

Measured on the 2-core CPU (2026-11-29, jax 0.10.2, 2 devices, seed 0): 500
steps in 142 s, evaluation 182 s. In the unit space, unseen alphabets (test):
rotation groups ratio 7.50 (untrained 1.09); disjoint characters ratio 3.13
(untrained 3.01), group recall@1 at 5 drawings 0.236 ± 0.031 (untrained
0.225 ± 0.036), at all drawings 0.720 ± 0.030 (untrained 0.891 ± 0.017); 20-way
1-shot 0.354 ± 0.004; Lake's runs error 0.760; Theorem 1: m 1.41 on training
groups, 1.41 on these; ordered triplets 0.662 (untrained 0.540). Held-out
characters (validation): rotation ratio 5.75, disjoint-character recall@1 at all
drawings 0.263 ± 0.025 (untrained 0.279 ± 0.019). Training shared the 2 cores
with other runs and evaluations, so its seconds are an upper bound.

The study (`python -m grouprep.study --seeds=0,1,2`: 2000 steps, seeds 0, 1, 2,
2-core CPU, 2026-11-29/30; mean ± sd, unseen alphabets, unit space): rotation
ratio 6.55 ± 0.10; disjoint-character recall@1 at 5 drawings 0.285 ± 0.019, at
all 0.848 ± 0.033; 20-way 1-shot 0.362 ± 0.005; Lake's error 0.733 ± 0.024;
held-out rotation ratio 5.64 ± 0.14 (results/summary.md; comparisons in
results/study_paired.md).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gg_centroid"
  config.loss.name = "group_group"
  config.loss.pooling = "centroid"
  return config
