"""Group-item InfoNCE, medoid groups (seed eq. 3): the note's 4th configuration.

As gi_centroid, but each group is represented by its medoid.

Command (from the repository root):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gi_medoid.py --workdir=runs/gi_medoid
Smoke (--config=configs/gi_medoid.py:smoke): 76 s end to end (measured while
other jobs shared the cores).

Measured on the 2-core CPU (2026-11-29, jax 0.10.2, 2 devices, seed 0): 500
steps in 335 s, evaluation 141 s. In the unit space, unseen alphabets (test):
rotation groups ratio 1.68 (untrained 1.04); disjoint characters ratio 1.59
(untrained 1.19), group recall@1 at 5 drawings 0.119 ± 0.030 (untrained
0.071 ± 0.023), at all drawings 0.467 ± 0.030 (untrained 0.211 ± 0.027); 20-way
1-shot 0.445 ± 0.004; Lake's runs error 0.703; Theorem 1: m 1.25 on training
groups, 1.24 on these; ordered triplets 0.684 (untrained 0.540). Held-out
characters (validation): rotation ratio 1.91, disjoint-character recall@1 at all
drawings 0.221 ± 0.023 (untrained 0.056 ± 0.014). Training shared the 2 cores
with other runs and evaluations, so its seconds are an upper bound.

The study (`python -m grouprep.study --seeds=0,1,2`: 2000 steps, seeds 0, 1, 2,
2-core CPU, 2026-11-29/30; mean ± sd, unseen alphabets, unit space): rotation
ratio 1.64 ± 0.05; disjoint-character recall@1 at 5 drawings 0.168 ± 0.012, at
all 0.436 ± 0.047; 20-way 1-shot 0.455 ± 0.006; Lake's error 0.678 ± 0.004;
held-out rotation ratio 1.90 ± 0.02 (results/summary.md; comparisons in
results/study_paired.md).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_medoid"
  config.loss.name = "group_item"
  config.loss.pooling = "medoid"
  return config
