"""Item-item InfoNCE (seed eq. 1): instance discrimination, unsupervised.

Every training image is its own class (128 a batch, labels unused): its two
augmented views are pulled together and pushed from the other images' views.
Groups are evaluated as centroids.

Command (from the repository root; rerun it to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/item_item.py --workdir=runs/item_item
Smoke: --config=configs/item_item.py:smoke, about a minute end to end.

Cost (the note's study, `python -m projects.group_note.study`, at its own step
count, not the command above's; results/study_metrics.json): 2000 steps trained
in 588 s (paced) and evaluated in 57 s (as those runs' code evaluated;
docs/performance.md times today's) on the 2-core CPU, mean of 3 seeds. Its row:
results/summary.md; its comparisons: results/study_paired.md.
One of its runs as the study trained it (its seed 0):
  python -m grouprep.main --config=configs/item_item.py \
    --workdir=runs/item_item_seed0 --config.seed=0 \
    --config.train.num_steps=2000
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
