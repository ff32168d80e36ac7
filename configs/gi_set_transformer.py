"""Group-item InfoNCE on Set Transformer groups (beyond the note).

As gi_centroid, but the members of a group attend to each other before they
are pooled: 2 SABs (4 heads, width D = 64) then a PMA with one seed
(grouprep/set_encoders.py; Lee et al., ICML 2019). Every other pooling in
grouprep pools items embedded independently; here an item's contribution
depends on the other items of its group. Its settings are
config.loss.set_transformer (block "sab" | "isab" with inducing_points,
num_blocks, heads, seeds, layer_norm).

Command (from the repository root; rerun it to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gi_set_transformer.py --workdir=runs/gi_set_transformer
Smoke: --config=configs/gi_set_transformer.py:smoke, about a minute end to end.

A configuration of the note's study (question "interacting items",
projects/group_note/comparisons.py); a step costs what gi_centroid's does
within what the shared CPU resolves (docs/set_transformer.md). Item ->
group is skipped on Omniglot's large groups
(docs/set_transformer.md#what-it-computes). Once the study has run it,
python -m projects.group_note.docs adds its cost here.
"""
import ml_collections

from configs import base
from grouprep import set_encoders


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_set_transformer"
  config.loss.name = "group_item"
  config.loss.pooling = "set_transformer"
  config.loss.set_transformer = ml_collections.ConfigDict(
      set_encoders.DEFAULTS)
  return config
