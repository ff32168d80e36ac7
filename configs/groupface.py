"""GroupFace (Kim et al., CVPR 2020) on the note's batches.

Conv-4 followed by GroupFace's head (model conv4_groupface: K=16 latent
groups, a group-decision MLP, the group-aware embedding v_x + sum_k p_k v_Gk).
Loss: ArcFace (s=16, m=0.2) over the 30 training alphabets + 0.1 * CE of the
group probabilities against the self-distributed labels of the global batch.
The note's batch (C=16 alphabets x V=2 rotations x M=8). Groups are evaluated
as centroids of the group-aware embeddings.

Command:
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/groupface.py --workdir=runs/groupface
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "groupface"
  config.model.name = "conv4_groupface"
  config.model.num_groups = 16
  config.loss.name = "groupface"
  config.loss.pooling = "centroid"
  config.loss.arcface_scale = 16.0
  config.loss.arcface_margin = 0.2
  config.loss.groupface_lambda = 0.1
  return config
