"""Group-group InfoNCE on medoids (seed eq. 2): the note's 3rd configuration.

As gg_centroid, but a group's embedding is its medoid: the member with the
smallest summed distance to the others (gradient to that member only).

Command (from the repository root):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gg_medoid.py --workdir=runs/gg_medoid
Smoke (--config=configs/gg_medoid.py:smoke): 57 s end to end (measured while
other jobs shared the cores).

Measured on the 2-core CPU (2026-11-29, jax 0.10.2, 2 devices, seed 0): 500
steps in 269 s, evaluation 134 s. In the unit space, unseen alphabets (test):
rotation groups ratio 1.80 (untrained 1.04); disjoint characters ratio 1.82
(untrained 1.19), group recall@1 at 5 drawings 0.109 ± 0.027 (untrained
0.071 ± 0.023), at all drawings 0.359 ± 0.039 (untrained 0.211 ± 0.027); 20-way
1-shot 0.330 ± 0.004; Lake's runs error 0.763; Theorem 1: m 1.33 on training
groups, 1.32 on these; ordered triplets 0.626 (untrained 0.540). Held-out
characters (validation): rotation ratio 1.93, disjoint-character recall@1 at all
drawings 0.152 ± 0.016 (untrained 0.056 ± 0.014). Training shared the 2 cores
with other runs and evaluations, so its seconds are an upper bound.

The study (`python -m grouprep.study --seeds=0,1,2`: 2000 steps, seeds 0, 1, 2,
2-core CPU, 2026-11-29/30; mean ± sd, unseen alphabets, unit space): rotation
ratio 1.99 ± 0.08; disjoint-character recall@1 at 5 drawings 0.169 ± 0.015, at
all 0.400 ± 0.027; 20-way 1-shot 0.402 ± 0.014; Lake's error 0.723 ± 0.016;
held-out rotation ratio 2.17 ± 0.01 (results/summary.md; comparisons in
results/study_paired.md).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gg_medoid"
  config.loss.name = "group_group"
  config.loss.pooling = "medoid"
  return config
