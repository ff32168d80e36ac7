"""The Group Loss (Elezi et al., ECCV 2020) on the note's batches.

C=16 alphabets x (V=2 x M=8) drawings; a linear classifier over the 30
training alphabets gives the priors softmax(logits / 1.0); 2 anchors per
alphabet get their one-hot label; 2 iterations of replicator dynamics over
W = ReLU(Pearson correlation); loss NLL + CE. Groups are evaluated as
centroids.

Command:
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/group_loss.py --workdir=runs/group_loss

Measured on the 2-core CPU (2026-11-28, jax 0.10.2, the CPU split into 2
devices; a test run shared the CPU part of the time): 500 steps in 256 s,
evaluation 76 s. Unseen alphabets: same-alphabet 1.704, different 4.297,
ratio 2.52 (untrained 1.26); held-out characters ratio 2.48; group recall@1
0.825, mAP 0.786; 20-way 1-shot 0.530 +- 0.004 (untrained 0.318), 5-way
1-shot 0.756; Lake's runs error 0.595.
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
