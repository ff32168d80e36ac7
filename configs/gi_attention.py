"""Group-item InfoNCE with attention pooling (beyond the note).

As gi_centroid, but a group's embedding is its attention pooling: a learned query
scores each member (weights softmax(q . W_k z / sqrt(D)), W_k starting at
zero, i.e. at the centroid) and the group is their weighted mean.

Command:
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gi_attention.py --workdir=runs/gi_attention
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_attention"
  config.loss.name = "group_item"
  config.loss.pooling = "attention"
  return config
