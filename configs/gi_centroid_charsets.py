"""gi_centroid trained on disjoint-character groups (seed eq. 3).

The note's groups (an alphabet's rotated copies) share every drawing, so a
rotation-invariant encoder solves them. Here the groups of an alphabet are
data.charsets_per_alphabet=4 disjoint sets of its characters (seeded; 20% of
the characters held out as before), each group the upright drawings of one
set: same-alphabet groups share no character and no drawing, as in the
evaluation's disjoint-character protocol. Each step draws C=16 alphabets x
V=2 character sets x M=8 drawings; every drawing of set a is pulled
to the centroid of set b of its alphabet and pushed from the other alphabets'
centroids (cosine / 0.1, symmetric).
Adam 1e-3, cosine decay.

Command (from the repository root):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gi_centroid_charsets.py --workdir=runs/gi_centroid_charsets

MEASURED
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_centroid_charsets"
  config.loss.name = "group_item"
  config.loss.pooling = "centroid"
  config.data.group_key = "charset"
  config.data.charsets_per_alphabet = 4
  return config
