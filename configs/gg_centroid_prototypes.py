"""Group-group InfoNCE on centroids against EMA prototypes of every training
group (seed eq. 2 with the note's momentum group embeddings).

As gg_centroid, but the candidates are not the batch's 16 groups: the state
holds one prototype per training group (120 = 30 alphabets x 4 rotations),
initialised from the untrained encoder's centroids and moved by momentum (beta
= loss.prototype_momentum = 0.9) towards each batch group's centroid every
step; the centroid of rotation a is pulled to the freshly updated prototype of
rotation b of its alphabet and pushed from the 116 prototypes of the other
alphabets (grouprep/methods/group_contrastive.py).

Command (from the repository root; rerun it to resume):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gg_centroid_prototypes.py --workdir=runs/gg_centroid_prototypes
Smoke: --config=configs/gg_centroid_prototypes.py:smoke,
about a minute end to end.

Result: its row in the note's study (python -m projects.group_note.study;
results/summary.md), whose cost python -m projects.group_note.docs adds
here once the study has run it; the 500-step comparison with batch
candidates over 3 seeds, with its commands: results/prototypes_vs_batch.md.
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gg_centroid_prototypes"
  config.loss.name = "group_group"
  config.loss.pooling = "centroid"
  config.loss.candidates = "prototypes"
  return config
