"""GroupFace (Kim et al., CVPR 2020) on the note's batches.

Conv-4 with GroupFace's head (K=16 latent groups), trained with ArcFace over
the 30 training alphabets + 0.1 * CE towards self-distributed (balanced)
latent-group labels. Groups are evaluated as centroids of its embeddings.

Command:
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/groupface.py --workdir=runs/groupface
Smoke (--config=configs/groupface.py:smoke): 70 s end to end (measured while
other jobs shared the cores).

Measured on the 2-core CPU (2026-11-29, jax 0.10.2, 2 devices, seed 0): 500
steps in 239 s, evaluation 125 s. In the unit space, unseen alphabets (test):
rotation groups ratio 3.64 (untrained 1.04); disjoint characters ratio 3.63
(untrained 2.74), group recall@1 at 5 drawings 0.350 ± 0.047 (untrained
0.167 ± 0.027), at all drawings 0.841 ± 0.021 (untrained 0.858 ± 0.028); 20-way
1-shot 0.481 ± 0.004; Lake's runs error 0.662; Theorem 1: m 1.46 on training
groups, 1.47 on these; ordered triplets 0.682 (untrained 0.531). Held-out
characters (validation): rotation ratio 3.41, disjoint-character recall@1 at all
drawings 0.383 ± 0.027 (untrained 0.279 ± 0.027). Collapse monitors at the last
log line (step 500): latent_groups_used 4.76. Training shared the 2 cores with
other runs and evaluations, so its seconds are an upper bound.

The study (`python -m grouprep.study --seeds=0,1,2`: 2000 steps, seeds 0, 1, 2,
2-core CPU, 2026-11-29/30; mean ± sd, unseen alphabets, unit space): rotation
ratio 3.59 ± 0.23; disjoint-character recall@1 at 5 drawings 0.400 ± 0.019, at
all 0.935 ± 0.006; 20-way 1-shot 0.567 ± 0.003; Lake's error 0.575 ± 0.011;
held-out rotation ratio 3.77 ± 0.17 (results/summary.md; comparisons in
results/study_paired.md).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "groupface"
  config.model.name = "conv4_groupface"
  config.model.num_groups = 16
  config.loss.name = "groupface"
  config.loss.pooling = "centroid"
  config.loss.arcface_scale = 16.0
  config.loss.arcface_margin = 0.2
  config.loss.groupface_lambda = 0.1
  return config
