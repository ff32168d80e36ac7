"""Group-group InfoNCE with attention pooling (beyond the note).

As gg_centroid, but a group's embedding is its attention pooling (a learned
query over members embedded independently; configs/gi_attention.py): the
group-group baseline that gg_set_transformer's interacting items are
compared with.

Command (from the repository root; rerun it to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gg_attention.py --workdir=runs/gg_attention
Smoke: --config=configs/gg_attention.py:smoke, about a minute end to end.

A configuration of the note's study (question "interacting items",
projects/group_note/comparisons.py); once the study has run it, its cost
is the paragraph that python -m projects.group_note.docs adds here.
"""
from configs import gi_attention


def get_config(arg=None):
  config = gi_attention.get_config(arg)
  config.name = "gg_attention"
  config.loss.name = "group_group"
  return config
