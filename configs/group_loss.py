"""The Group Loss (Elezi et al., ECCV 2020) on the note's batches.

C=16 alphabets x (V=2 x M=8) drawings; a linear classifier over the 30
training alphabets gives the priors softmax(logits / 1.0); 2 anchors per
alphabet get their one-hot label; 2 iterations of replicator dynamics over
W = ReLU(Pearson correlation); loss NLL + CE. Groups are evaluated as
centroids.

Command:
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/group_loss.py --workdir=runs/group_loss
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
