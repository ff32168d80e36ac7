"""Group-item InfoNCE with soft medoid pooling (beyond the note).

As gi_centroid, but a group's embedding is its soft medoid: the members
weighted by softmax(-summed distance / (0.1 * its mean)), between the medoid
(temperature -> 0) and the centroid.

Command:
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gi_soft_medoid.py --workdir=runs/gi_soft_medoid
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_soft_medoid"
  config.loss.name = "group_item"
  config.loss.pooling = "soft_medoid"
  return config
