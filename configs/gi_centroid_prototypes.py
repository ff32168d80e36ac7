"""Group-item InfoNCE on centroids against EMA prototypes of every training
group (seed eq. 3 with the note's momentum group embeddings).

As gi_centroid, but the candidates are not the batch's 16 groups: the state
holds one prototype per training group (120 = 30 alphabets x 4 rotations),
initialised from the untrained encoder's centroids and moved by momentum (beta
= loss.prototype_momentum = 0.9) towards each batch group's centroid every
step; every drawing of rotation a is pulled to the freshly updated prototype of
rotation b of its alphabet and pushed from the 116 prototypes of the other
alphabets (grouprep/methods/group_contrastive.py).

Command (from the repository root):
  TFDS_DATA_DIR=../shared/tensorflow_datasets \
  python -m grouprep.main --config=configs/gi_centroid_prototypes.py --workdir=runs/gi_centroid_prototypes
Smoke (--config=configs/gi_centroid_prototypes.py:smoke): 36 s end to end,
alone on the machine.

Measured on the 2-core CPU (2026-11-29, 500 steps, seeds 0-2, mean ± sd, n = 3;
runs/study13, results/prototypes_vs_batch.md): unseen alphabets, unit space,
rotation ratio 6.45 ± 1.10 (gi_centroid: 5.02 ± 0.21); disjoint characters
recall@1 at 5 drawings 0.245 ± 0.024 (0.353 ± 0.032), at all drawings 0.662 ±
0.027 (0.851 ± 0.024); 20-way 1-shot 0.300 ± 0.007 (0.461 ± 0.007); Lake error
0.812 ± 0.014 (0.670 ± 0.011); held-out ratio 7.07 ± 0.88 (4.78 ± 0.15). At
step 500: prototype drift 0.019 per step, cosine of a batch group's prototype
to its pooled embedding 0.98. Seed 2 alone on the machine: 117 s of training,
70 s of evaluation.
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_centroid_prototypes"
  config.loss.name = "group_item"
  config.loss.pooling = "centroid"
  config.loss.candidates = "prototypes"
  return config
