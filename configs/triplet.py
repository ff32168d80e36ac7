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
