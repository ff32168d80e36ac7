"""The Group Loss (Elezi et al., ECCV 2020) on the note's batches.

A linear classifier over the 30 training alphabets gives each drawing's
priors, refined by replicator dynamics over the batch's similarities with 2
labelled anchors per alphabet; loss NLL + CE. Groups are evaluated as centroids.

Command:
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/group_loss.py --workdir=runs/group_loss
Smoke (--config=configs/group_loss.py:smoke): 68 s end to end (measured while
other jobs shared the cores).

Measured on the 2-core CPU (2026-11-29, jax 0.10.2, 2 devices, seed 0): 500
steps in 234 s, evaluation 164 s. In the unit space, unseen alphabets (test):
rotation groups ratio 2.46 (untrained 1.09); disjoint characters ratio 3.64
(untrained 2.99), group recall@1 at 5 drawings 0.360 ± 0.044 (untrained
0.221 ± 0.035), at all drawings 0.869 ± 0.025 (untrained 0.900 ± 0.020); 20-way
1-shot 0.530 ± 0.004; Lake's runs error 0.600; Theorem 1: m 1.15 on training
groups, 1.11 on these; ordered triplets 0.678 (untrained 0.540). Held-out
characters (validation): rotation ratio 2.44, disjoint-character recall@1 at all
drawings 0.422 ± 0.037 (untrained 0.266 ± 0.018). Training shared the 2 cores
with other runs and evaluations, so its seconds are an upper bound.

The study (`python -m grouprep.study --seeds=0,1,2`: 2000 steps, seeds 0, 1, 2,
2-core CPU, 2026-11-29/30; mean ± sd, unseen alphabets, unit space): rotation
ratio 2.16 ± 0.05; disjoint-character recall@1 at 5 drawings 0.464 ± 0.021, at
all 0.952 ± 0.004; 20-way 1-shot 0.650 ± 0.009; Lake's error 0.452 ± 0.011;
held-out rotation ratio 2.29 ± 0.07 (results/summary.md; comparisons in
results/study_paired.md).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "group_loss"
  config.loss.name = "group_loss"
  config.loss.pooling = "centroid"
  config.loss.anchors = 2
  config.loss.prior_temperature = 1.0
  config.loss.iterations = 2
  return config
