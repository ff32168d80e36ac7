"""Prototypical Networks (Snell et al., 2017) on the Vinyals split.

Classes are (character, rotation) pairs of the Vinyals split (trainval: 4,800
classes of 20 drawings), every drawing its own group. A step is C=100 classes
x V=6 drawings x M=1: for every ordered pair of views (a, b), view b is a
100-way 1-shot support set and view a its queries (group_item loss, centroid
prototypes, -||.||^2), averaged over the 30 pairs. That is the paper's 1-shot
episode (it matches the training shot to the test shot) with more ways, each
drawing serving as support and as query. Adam 1e-3, halved every 1600 steps.
Few-shot accuracy on the Vinyals test split (1,692 classes) is logged to
eval_log.jsonl every 500 steps (200 episodes) for the accuracy-vs-time
curve; the final evaluation uses 1000 episodes, 15 queries per class.

Command (from the repository root; rerun the same command to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/protonet.py --workdir=runs/protonet

Measured on the 2-core CPU (2026-11-29, jax 0.10.2, the CPU split into 2
devices, nothing else running): 8,000 steps in 6,638 s of training (1 h 51
min; 6,789 s with the periodic evaluations), final evaluation 70 s. Vinyals
test split, 1000 episodes, 15 queries, mean +- 95% CI:
  5-way 1-shot 0.9856 +- 0.0018   (paper 0.988)
  5-way 5-shot 0.9965 +- 0.0007   (paper 0.997)
  20-way 1-shot 0.9555 +- 0.0016  (paper 0.960)
  20-way 5-shot 0.9888 +- 0.0006  (paper 0.989)
During training (200 episodes; eval_log.jsonl, accuracy_vs_time.png) 20-way /
5-way 1-shot: 0.323 / 0.559 at step 0, 0.932 / 0.977 at 500 (7 min), 0.945 /
0.980 at 1000, 0.955 / 0.983 at 2000 (28 min), 0.957 / 0.984 at 4000, 0.958 /
0.985 at 8000: most of the gain comes in the first half hour.

The first recipe, 60-way 5-shot episodes (C=60 x V=2 groups of M=5 from
fixed halves of each class, halved every 2000 steps), logged 20-way / 5-way
1-shot (200 episodes) 0.323 / 0.559 at step 0, 0.885 / 0.959 at 500, 0.907 /
0.966 at 1000, 0.918 / 0.971 at 1500, 0.921 / 0.971 at 2000 and 0.927 / 0.974
at 2500 (0.927 where this recipe had 0.932 at step 500), when it was stopped
for this one (results/protonet_recipes.png: `python -m grouprep.report
--compare=results/protonet_recipes.png protonet protonet_5shot`; it was
--config.data.group_size=10 --config.data.classes_per_batch=60
--config.data.groups_per_class=2 --config.data.items_per_group=5
--config.train.decay_every=2000 --config.train.num_steps=10000).
Smoke (--config=configs/protonet.py:smoke): 66 s end to end (measured).

Note: the Vinyals training classes include characters of 8 of the 20 TFDS
evaluation alphabets, so this encoder's "unseen_alphabets" rows are not
unseen; its comparable numbers are the vinyals_test rows.
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "protonet"
  config.data.train_split = "vinyals_trainval"
  config.data.group_size = 1  # every drawing its own group: 1-shot episodes
  config.data.classes_per_batch = 100
  config.data.groups_per_class = 6
  config.data.items_per_group = 1
  config.loss.name = "protonet"
  config.loss.pooling = "centroid"
  config.loss.similarity = "neg_sq_euclidean"
  config.loss.temperature = 1.0
  config.train.num_steps = 8000
  config.train.schedule = "step"
  config.train.decay_every = 1600
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
