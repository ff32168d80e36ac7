"""SMoG, Synchronous Momentum Grouping (Pang et al., ECCV 2022). Unsupervised.

A batch is 128 training images drawn uniformly (labels unused), each augmented
twice on the device; Conv-4 with an MLP projection head (64-d). K=256 prototypes, assignment by the momentum encoder
(EMA 0.99), prototypes moved by momentum beta=0.99 within the step and
synchronously over the devices, group-item InfoNCE against them (cosine / 0.1),
k-means re-grouping over a memory of the last 4096 momentum embeddings at
step 20 and every 100 steps (the paper: every 300 of a much longer run). Collapse monitors in
train_log.jsonl: groups_used_in_batch, assignment_entropy,
groups_used_in_memory. Groups are evaluated as centroids.

Command:
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/smog.py --workdir=runs/smog

Measured on the 2-core CPU (2026-11-28, jax 0.10.2, the CPU split into 2
devices): 500 steps in 306 s, evaluation 61 s. No collapse: over the last 25
steps 255.0 of the 256 groups held remembered embeddings, 134.6 were used by
a batch's 256 views, assignment entropy 0.856 of the maximum. Unseen
alphabets: 20-way 1-shot 0.512 +- 0.005, 5-way 1-shot 0.768 +- 0.008 (the
untrained encoder with its head: 0.209 +- 0.003, 0.448 +- 0.008); Lake's runs
error 0.628 (untrained 0.828); group ratio 1.46 (untrained 1.25), recall@1
0.537 -- unsupervised, it separates characters, not alphabets.
(Without the head and with k-means started from the current prototypes the
first run used 10 of the 256 groups from step 100 on.)
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "smog"
  config.data.label_key = "image"
  config.data.classes_per_batch = 128
  config.data.groups_per_class = 1
  config.data.items_per_group = 1
  # An MLP projection head: Conv-4's ReLU features all lie in the positive
  # orthant, where random prototypes leave most groups empty.
  config.model.embed_dim = 64
  config.loss.name = "smog"
  config.loss.pooling = "centroid"
  config.loss.temperature = 0.1
  config.loss.num_prototypes = 256
  config.loss.prototype_momentum = 0.99
  config.loss.encoder_momentum = 0.99
  config.loss.memory_size = 4096
  config.loss.regroup_every = 100
  config.loss.regroup_first = 20  # the first grouping, once memory fills
  config.loss.kmeans_iterations = 10
  if arg == "smoke":
    config.data.classes_per_batch = 64
    config.loss.num_prototypes = 64
    config.loss.memory_size = 512
    config.loss.regroup_every = 10
    config.loss.regroup_first = 5
  return config
