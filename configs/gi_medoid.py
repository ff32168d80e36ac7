"""Group-item InfoNCE, medoid groups (seed eq. 3): the note's 4th configuration.

(The note lists "group-item + centroid" twice; the fourth is group-item +
medoid.) As gi_centroid, but each group is represented by its medoid.

Command (from the repository root):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gi_medoid.py --workdir=runs/gi_medoid

Measured on the 2-core CPU (2026-11-28, jax 0.10.2, the CPU split into 2
devices): 500 steps in 161 s, then evaluation in 41 s. Unseen alphabets
(80 groups, medoid of each):
  same-alphabet 2.513, different-alphabet 4.268, ratio 1.70
  (untrained encoder, medoid groups: 0.365, 0.393, ratio 1.08);
held-out characters: ratio 1.89 (untrained 1.09); group recall@1 0.60,
mAP 0.62; 20-way 1-shot 0.438 ± 0.004; Lake's runs error 0.698.
On one CPU device (--nosplit_cpu): 248 s, ratio 1.73.
As for gg_medoid, the low ratio is the medoid itself (one drawing per group);
the same checkpoint with centroid groups gives same 0.630, different 3.187,
ratio 5.06.
Smoke (--config=configs/gi_medoid.py:smoke): 31-34 s end to end (measured).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_medoid"
  config.loss.name = "group_item"
  config.loss.pooling = "medoid"
  return config
