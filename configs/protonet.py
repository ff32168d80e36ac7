"""Prototypical Networks (Snell et al., 2017) on the Vinyals split.

Classes are (character, rotation) pairs of the Vinyals split (trainval: 4,800
classes), each cut into two fixed groups of 10 drawings. A step is a 60-way
episode: C=60 classes x V=2 groups x M=5 drawings, each group the support set
of the other's queries (group_item loss, centroid prototypes, -||.||^2, the
symmetric form of the paper's 60-way 5-shot 5-query episode). Adam 1e-3, halved
every 2000 steps. Few-shot accuracy on the Vinyals test split (1,692 classes)
is logged to eval_log.jsonl every 500 steps (200 episodes) for the
accuracy-vs-time curve; the final evaluation uses 1000 episodes, 15 queries.

Command (from the repository root; rerun the same command to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/protonet.py --workdir=runs/protonet

Status (2026-11-29; the run is not finished, so no final numbers yet): the
run in runs/protonet, resumed twice with the command above, logged on the
Vinyals test split (200 episodes, 15 queries): step 0: 20-way 1-shot 0.323,
5-way 1-shot 0.559; step 500: 0.885, 0.959; step 1000: 0.907, 0.966; step 1500:
0.918, 0.971 (paper: 0.960, 0.988). Uncontended it ran at 1.2 steps/s (10,000 steps ~2.3 h); most
of this run so far shared the CPU with other jobs (0.3-1.2 steps/s), so its
wall_s axis is inflated.
Smoke (--config=configs/protonet.py:smoke): 71 s end to end (measured).

Note: the Vinyals training classes include characters of 8 of the 20 TFDS
evaluation alphabets, so this encoder's "unseen_alphabets" rows are not
unseen; its comparable numbers are the vinyals_test rows.
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "protonet"
  config.data.train_split = "vinyals_trainval"
  config.data.group_size = 10
  config.data.classes_per_batch = 60
  config.data.groups_per_class = 2
  config.data.items_per_group = 5
  config.loss.name = "protonet"
  config.loss.pooling = "centroid"
  config.loss.similarity = "neg_sq_euclidean"
  config.loss.temperature = 1.0
  config.train.num_steps = 10000
  config.train.schedule = "step"
  config.train.decay_every = 2000
  config.train.checkpoint_every = 250
  config.train.log_every = 50
  config.eval.every = 500
  config.eval.fewshot_queries = 15
  if arg == "smoke":
    config.data.classes_per_batch = 20
    config.train.num_steps = 30
    config.train.decay_every = 10
    config.train.checkpoint_every = 10
    config.train.log_every = 10
    config.eval.every = 15
    config.eval.during_training_episodes = 50
  return config
