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

Measured on the 2-core CPU (2026-11-28, jax 0.10.2, the CPU split into 2
devices; a test run shared the CPU part of the time): 500 steps in 217 s,
evaluation 74 s. Unseen alphabets: same-alphabet 1.748, different 6.536,
ratio 3.74 (untrained GroupFace model 0.211 / 0.253 / 1.20); held-out
characters ratio 3.50; recall@1 0.975, mAP 0.949; 20-way 1-shot
0.465 +- 0.004 (untrained 0.286), 5-way 1-shot 0.700; Lake's runs error 0.683.
About 5 of the 16 latent groups take the argmax in a batch at the end
(train_log latent_groups_used 4.76).
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
