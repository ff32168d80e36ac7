"""Group-group InfoNCE, medoid groups (seed eq. 2): the note's 3rd configuration.

As gg_centroid, but a group's embedding is its medoid: the member with the
smallest summed distance to the others (gradient to that member only).

Command (from the repository root):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gg_medoid.py --workdir=runs/gg_medoid

Measured on the 2-core CPU (2026-11-28, jax 0.10.2, the CPU split into 2
devices): 500 steps in 164 s, then evaluation in 48 s. Unseen alphabets
(80 groups, medoid of each):
  same-alphabet 2.171, different-alphabet 4.111, ratio 1.89
  (untrained encoder, medoid groups: 0.365, 0.393, ratio 1.08);
held-out characters: ratio 1.89 (untrained 1.09); group recall@1 0.44,
mAP 0.53; 20-way 1-shot 0.327 ± 0.004; Lake's runs error 0.768.
On one CPU device (--nosplit_cpu): 263 s, ratio 1.87.
Why the ratio is lower than with centroids: a medoid is one drawing, so two
same-alphabet medoids are two individual characters, about as far apart as
items are. The encoder itself did learn the groups: the same checkpoint
evaluated with centroid groups (--mode=eval --config.loss.pooling=centroid)
gives same 0.703, different 3.102, ratio 4.41.
Smoke (--config=configs/gg_medoid.py:smoke): 31-34 s end to end (measured).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gg_medoid"
  config.loss.name = "group_group"
  config.loss.pooling = "medoid"
  return config
