"""Group-item InfoNCE on centroids (seed eq. 3): the note's 2nd configuration
and grouprep's default.

Groups are the rotated copies (0/90/180/270) of the 30 background alphabets;
every drawing is pulled to the centroid of another rotation of its alphabet
and pushed from the other alphabets' centroids.

Command (from the repository root):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gi_centroid.py --workdir=runs/gi_centroid
Smoke (--config=configs/gi_centroid.py:smoke): 44 s end to end (measured while
other jobs shared the cores).

Measured on the 2-core CPU (2026-11-29, jax 0.10.2, 2 devices, seed 0): 500
steps in 122 s, evaluation 186 s. In the unit space, unseen alphabets (test):
rotation groups ratio 4.84 (untrained 1.09); disjoint characters ratio 3.43
(untrained 3.01), group recall@1 at 5 drawings 0.329 ± 0.043 (untrained
0.225 ± 0.036), at all drawings 0.851 ± 0.024 (untrained 0.891 ± 0.017); 20-way
1-shot 0.458 ± 0.004; Lake's runs error 0.660; Theorem 1: m 1.30 on training
groups, 1.25 on these; ordered triplets 0.695 (untrained 0.540). Held-out
characters (validation): rotation ratio 4.71, disjoint-character recall@1 at all
drawings 0.412 ± 0.023 (untrained 0.279 ± 0.019). Training shared the 2 cores
with other runs and evaluations, so its seconds are an upper bound.

The study (`python -m grouprep.study --seeds=0,1,2`: 2000 steps, seeds 0, 1, 2,
2-core CPU, 2026-11-29/30; mean ± sd, unseen alphabets, unit space): rotation
ratio 5.08 ± 0.30; disjoint-character recall@1 at 5 drawings 0.366 ± 0.018, at
all 0.907 ± 0.020; 20-way 1-shot 0.436 ± 0.002; Lake's error 0.693 ± 0.017;
held-out rotation ratio 5.12 ± 0.25 (results/summary.md; comparisons in
results/study_paired.md).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_centroid"
  config.loss.name = "group_item"
  config.loss.pooling = "centroid"
  return config
