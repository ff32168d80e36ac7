"""Group-item InfoNCE, centroid groups (seed eq. 3): the note's 2nd configuration
and grouprep's default.

Classes are the 30 background alphabets (20% of each one's characters held
out), groups their rotated copies (0/90/180/270). Each step draws C=16
alphabets x V=2 rotations x M=8 drawings; every drawing of rotation a is pulled
to the centroid of rotation b of its alphabet and pushed from the other
alphabets' centroids (cosine / 0.1, symmetric). Adam 1e-3, cosine decay.

Command (from the repository root):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gi_centroid.py --workdir=runs/gi_centroid

Measured on the 2-core CPU (2026-11-28, jax 0.10.2, the CPU split into 2
devices): 500 steps in 175 s, then evaluation in 50 s. Unseen alphabets
(80 groups of 20 evaluation alphabets):
  same-alphabet 0.482, different-alphabet 2.331, ratio 4.84
  (untrained encoder: 0.167, 0.211, ratio 1.26);
held-out characters: ratio 4.87 (untrained 1.25); group recall@1 1.00,
mAP 0.995; 20-way 1-shot 0.436 ± 0.004; Lake's runs error 0.685.
The same seed on one CPU device (--nosplit_cpu; floating-point order differs,
so the trajectory does): 251 s, same 0.447, different 2.367, ratio 5.29.
Seeds 1 and 2 (--config.seed=N, measured 2026-11-29): unseen ratio 5.25 and
5.01, 20-way 1-shot 0.448 and 0.439: run-to-run sd of the ratio ~0.2.
Smoke (--config=configs/gi_centroid.py:smoke): 31-34 s end to end (measured
on one CPU device, before the split).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_centroid"
  config.loss.name = "group_item"
  config.loss.pooling = "centroid"
  return config
