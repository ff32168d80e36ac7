"""Batch-hard triplet loss (Hermans et al., 2017): the item-level baseline in
the setting of Theorem 1.

The note's batch (C=16 alphabets x V=2 rotations x M=8 drawings), every item
labelled by its alphabet; for each anchor the farthest same-alphabet item and
the nearest other-alphabet item, hinge with margin 0.2 on Euclidean distances
between unit-norm embeddings. (Unnormalised with margin 0.5 it collapsed: the
encoder shrank all embeddings, same/different-alphabet distances 0.018/0.023,
ratio 1.28, 20-way 1-shot 0.146, below the untrained encoder's 0.318.)
Groups are evaluated as centroids.

Command:
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/triplet.py --workdir=runs/triplet

Measured on the 2-core CPU (2026-11-28, jax 0.10.2, the CPU split into 2
devices): 500 steps in 225 s, evaluation 74 s. Unseen alphabets: same-alphabet
0.263, different 0.624, ratio 2.37 (untrained 1.26); held-out characters
ratio 3.16; but recall@1 0.150, mAP 0.187, 20-way 1-shot 0.161 +- 0.003 and
5-way 1-shot 0.404 (untrained 0.318 / 0.566), Lake's runs error 0.850: with
alphabets as labels the hardest positive is always another character, and
the encoder learns little that transfers. Theorem 1 on this encoder: margin
m = 6.21, the bound holds for every same-alphabet pair (distance/bound 0.022).
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "triplet"
  config.loss.name = "triplet"
  config.loss.pooling = "centroid"
  config.loss.similarity = "neg_sq_euclidean"  # evaluation's nearest-group rule
  config.loss.margin = 0.2
  config.loss.normalize = True  # unit-norm embeddings (FaceNet)
  return config
