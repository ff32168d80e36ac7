"""gg_centroid trained on disjoint-character groups (seed eq. 2).

As gg_centroid, but an alphabet's groups are data.charsets_per_alphabet=4
disjoint sets of its characters (upright drawings): same-alphabet groups share
no character and no drawing.

Command (from the repository root; rerun it to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gg_centroid_charsets.py --workdir=runs/gg_centroid_charsets
Smoke: --config=configs/gg_centroid_charsets.py:smoke,
about a minute end to end.

Cost (the note's study, `python -m projects.group_note.study`, at its own step
count, not the command above's; results/study_metrics.json): 2000 steps trained
in 471 s (paced) and evaluated in 44 s (as those runs' code evaluated;
docs/performance.md times today's) on the 2-core CPU, mean of 3 seeds. Its row:
results/summary.md; its comparisons: results/study_paired.md.
One of its runs as the study trained it (its seed 0):
  python -m grouprep.main --config=configs/gg_centroid_charsets.py \
    --workdir=runs/gg_centroid_charsets_seed0 --config.seed=0 \
    --config.train.num_steps=2000
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gg_centroid_charsets"
  config.loss.name = "group_group"
  config.loss.pooling = "centroid"
  config.data.group_key = "charset"
  config.data.charsets_per_alphabet = 4
  return config
