"""Group-item InfoNCE with attention pooling (beyond the note).

As gi_centroid, but a group's embedding is its attention pooling: a learned
query scores each member (weights softmax(q . W_k z / sqrt(D)), W_k starting
at zero, i.e. at the centroid) and the group is their weighted mean.

Command:
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gi_attention.py --workdir=runs/gi_attention
Smoke (--config=configs/gi_attention.py:smoke): 70 s end to end (measured while
other jobs shared the cores).

Measured on the 2-core CPU (2026-11-29, jax 0.10.2, 2 devices, seed 0): 500
steps in 191 s, evaluation 133 s. In the unit space, unseen alphabets (test):
rotation groups ratio 5.24 (untrained 1.09); disjoint characters ratio 3.58
(untrained 3.01), group recall@1 at 5 drawings 0.315 ± 0.035 (untrained
0.225 ± 0.036), at all drawings 0.859 ± 0.026 (untrained 0.891 ± 0.017); 20-way
1-shot 0.455 ± 0.004; Lake's runs error 0.710; Theorem 1: m 1.31 on training
groups, 1.25 on these; ordered triplets 0.691 (untrained 0.540). Held-out
characters (validation): rotation ratio 4.89, disjoint-character recall@1 at all
drawings 0.403 ± 0.022 (untrained 0.279 ± 0.019). Training shared the 2 cores
with other runs and evaluations, so its seconds are an upper bound.

The study (`python -m grouprep.study --seeds=0,1,2`: 2000 steps, seeds 0, 1, 2,
2-core CPU, 2026-11-29/30; mean ± sd, unseen alphabets, unit space): rotation
ratio 5.02 ± 0.12; disjoint-character recall@1 at 5 drawings 0.373 ± 0.012, at
all 0.910 ± 0.012; 20-way 1-shot 0.438 ± 0.008; Lake's error 0.681 ± 0.015;
held-out rotation ratio 4.86 ± 0.13 (results/summary.md; comparisons in
results/study_paired.md).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_attention"
  config.loss.name = "group_item"
  config.loss.pooling = "attention"
  return config
