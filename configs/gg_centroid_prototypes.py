"""Group-group InfoNCE on centroids against EMA prototypes of every training
group (seed eq. 2 with the note's momentum group embeddings).

As gg_centroid, but the candidates are not the batch's 16 groups: the state
holds one prototype per training group (120 = 30 alphabets x 4 rotations),
initialised from the untrained encoder's centroids and moved by momentum (beta
= loss.prototype_momentum = 0.9) towards each batch group's centroid every
step; the centroid of rotation a is pulled to the freshly updated prototype of
rotation b of its alphabet and pushed from the 116 prototypes of the other
alphabets (grouprep/methods/group_contrastive.py).

Command (from the repository root):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gg_centroid_prototypes.py --workdir=runs/gg_centroid_prototypes
Smoke (--config=configs/gg_centroid_prototypes.py:smoke): 35 s end to end,
alone on the machine.

Measured on the 2-core CPU (2026-11-29, 500 steps, seeds 0-2, mean ± sd, n = 3;
runs/study13, results/prototypes_vs_batch.md): unseen alphabets, unit space,
rotation ratio 8.45 ± 0.18 (gg_centroid: 6.66 ± 0.75); disjoint characters
recall@1 at 5 drawings 0.213 ± 0.028 (0.267 ± 0.029), at all drawings 0.592 ±
0.011 (0.730 ± 0.016); 20-way 1-shot 0.286 ± 0.016 (0.367 ± 0.011); Lake error
0.807 ± 0.015 (0.747 ± 0.012); held-out ratio 6.86 ± 0.19 (5.40 ± 0.44). At
step 500: prototype drift 0.032 per step, cosine of a batch group's prototype
to its pooled embedding 0.94. Seed 2 alone on the machine: 113 s of training,
65 s of evaluation.
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gg_centroid_prototypes"
  config.loss.name = "group_group"
  config.loss.pooling = "centroid"
  config.loss.candidates = "prototypes"
  return config
