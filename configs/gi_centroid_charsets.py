"""gi_centroid trained on disjoint-character groups (seed eq. 3).

As gi_centroid, but an alphabet's groups are data.charsets_per_alphabet=4
disjoint sets of its characters (upright drawings): same-alphabet groups share
no character and no drawing.

Command (from the repository root):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gi_centroid_charsets.py --workdir=runs/gi_centroid_charsets
Smoke (--config=configs/gi_centroid_charsets.py:smoke): 43 s end to end
(measured while another run trained on the cores).

Measured on the 2-core CPU (2026-11-29, jax 0.10.2, 2 devices, seed 0): 500
steps in 328 s, evaluation 126 s. In the unit space, unseen alphabets (test):
rotation groups ratio 1.31 (untrained 1.09); disjoint characters ratio 3.24
(untrained 3.01), group recall@1 at 5 drawings 0.340 ± 0.041 (untrained
0.225 ± 0.036), at all drawings 0.936 ± 0.019 (untrained 0.891 ± 0.017); 20-way
1-shot 0.420 ± 0.004; Lake's runs error 0.720; Theorem 1: m 1.34 on training
groups, 1.40 on these; ordered triplets 0.589 (untrained 0.540). Held-out
characters (validation): rotation ratio 1.29, disjoint-character recall@1 at all
drawings 0.634 ± 0.019 (untrained 0.279 ± 0.019). Training shared the 2 cores
with other runs and evaluations, so its seconds are an upper bound.

The study (`python -m grouprep.study --seeds=0,1,2`: 2000 steps, seeds 0, 1, 2,
2-core CPU, 2026-11-29/30; mean ± sd, unseen alphabets, unit space): rotation
ratio 1.25 ± 0.02; disjoint-character recall@1 at 5 drawings 0.252 ± 0.016, at
all 0.917 ± 0.014; 20-way 1-shot 0.289 ± 0.010; Lake's error 0.811 ± 0.017;
held-out rotation ratio 1.28 ± 0.01 (results/summary.md; comparisons in
results/study_paired.md).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_centroid_charsets"
  config.loss.name = "group_item"
  config.loss.pooling = "centroid"
  config.data.group_key = "charset"
  config.data.charsets_per_alphabet = 4
  return config
