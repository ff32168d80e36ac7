"""Group-group InfoNCE on Set Transformer groups (beyond the note).

gg_centroid's loss (seed eq. 2) on the groups of gi_set_transformer: the
members of a group attend to each other (2 SABs) before a PMA pools them;
configs/gi_set_transformer.py and docs/set_transformer.md say more.

Command (from the repository root; rerun it to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gg_set_transformer.py --workdir=runs/gg_set_transformer
Smoke: --config=configs/gg_set_transformer.py:smoke, about a minute end to end.
"""
from configs import gi_set_transformer


def get_config(arg=None):
  config = gi_set_transformer.get_config(arg)
  config.name = "gg_set_transformer"
  config.loss.name = "group_group"
  return config
