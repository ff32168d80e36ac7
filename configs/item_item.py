"""Item-item InfoNCE (seed eq. 1): instance discrimination, unsupervised.

Labels are not used: a batch is 128 training images drawn uniformly (each
image its own class: data.label_key="image", under a random rotation), each
augmented twice on the device (random zoom +-15%, shift +-10%); each view is
pulled to the other view of its image and pushed from the other images'
(cosine / 0.1, symmetric). Groups are evaluated as centroids.

Command:
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/item_item.py --workdir=runs/item_item
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "item_item"
  config.data.label_key = "image"
  config.data.classes_per_batch = 128
  config.data.groups_per_class = 1
  config.data.items_per_group = 1
  config.loss.name = "item_item"
  config.loss.pooling = "centroid"
  if arg == "smoke":
    config.data.classes_per_batch = 64
  return config
