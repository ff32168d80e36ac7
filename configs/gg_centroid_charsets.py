"""gg_centroid trained on disjoint-character groups (seed eq. 2).

As gg_centroid, but an alphabet's groups are data.charsets_per_alphabet=4
disjoint sets of its characters (upright drawings): same-alphabet groups share
no character and no drawing.

Command (from the repository root):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gg_centroid_charsets.py --workdir=runs/gg_centroid_charsets
Smoke (--config=configs/gg_centroid_charsets.py:smoke): 45 s end to end
(measured while another run trained on the cores).

Measured on the 2-core CPU (2026-11-29, jax 0.10.2, 2 devices, seed 0): 500
steps in 341 s, evaluation 112 s. In the unit space, unseen alphabets (test):
rotation groups ratio 1.23 (untrained 1.09); disjoint characters ratio 2.65
(untrained 3.01), group recall@1 at 5 drawings 0.226 ± 0.027 (untrained
0.225 ± 0.036), at all drawings 0.855 ± 0.032 (untrained 0.891 ± 0.017); 20-way
1-shot 0.308 ± 0.004; Lake's runs error 0.785; Theorem 1: m 1.41 on training
groups, 1.41 on these; ordered triplets 0.563 (untrained 0.540). Held-out
characters (validation): rotation ratio 1.17, disjoint-character recall@1 at all
drawings 0.598 ± 0.024 (untrained 0.279 ± 0.019). Training shared the 2 cores
with other runs and evaluations, so its seconds are an upper bound.

The study (`python -m grouprep.study --seeds=0,1,2`: 2000 steps, seeds 0, 1, 2,
2-core CPU, 2026-11-29/30; mean ± sd, unseen alphabets, unit space): rotation
ratio 1.19 ± 0.03; disjoint-character recall@1 at 5 drawings 0.212 ± 0.017, at
all 0.850 ± 0.041; 20-way 1-shot 0.252 ± 0.019; Lake's error 0.842 ± 0.023;
held-out rotation ratio 1.18 ± 0.03 (results/summary.md; comparisons in
results/study_paired.md).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gg_centroid_charsets"
  config.loss.name = "group_group"
  config.loss.pooling = "centroid"
  config.data.group_key = "charset"
  config.data.charsets_per_alphabet = 4
  return config
