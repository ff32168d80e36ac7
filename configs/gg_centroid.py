"""Group-group InfoNCE, centroid groups (seed eq. 2): the note's 1st configuration.

Classes are the 30 background alphabets (20% of each one's characters held
out), groups their rotated copies (0/90/180/270). Each step draws C=16
alphabets x V=2 rotations x M=8 drawings; the centroid of rotation a is pulled
to the centroid of rotation b of its alphabet and pushed from the other
alphabets' centroids (cosine / 0.1, symmetric). Adam 1e-3, cosine decay.

Command (from the repository root):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gg_centroid.py --workdir=runs/gg_centroid

Measured on the 2-core CPU (2026-11-28, jax 0.10.2, the CPU split into 2
devices): 500 steps in 166 s, then evaluation in 51 s. Unseen alphabets
(80 groups of 20 evaluation alphabets):
  same-alphabet 0.203, different-alphabet 1.508, ratio 7.43
  (untrained encoder: 0.167, 0.211, ratio 1.26);
held-out characters: ratio 6.61 (untrained 1.25); group recall@1 1.00,
mAP 1.00; 20-way 1-shot 0.352 ± 0.004; Lake's runs error 0.760.
The same seed on one CPU device (--nosplit_cpu; floating-point order differs,
so the trajectory does): 234 s, same 0.262, different 1.638, ratio 6.25.
Smoke (--config=configs/gg_centroid.py:smoke): 31-34 s end to end (measured).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gg_centroid"
  config.loss.name = "group_group"
  config.loss.pooling = "centroid"
  return config
