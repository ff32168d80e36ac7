#!/usr/bin/env bash
# Trains and evaluates every configuration into runs/NAME (resuming any that
# were interrupted), then writes the comparison table results/summary.md with
# the plots. Extra arguments go to every run, e.g.
#   bash run.sh --config.train.num_steps=100
set -euo pipefail
cd "$(dirname "$0")"
export TFDS_DATA_DIR="${TFDS_DATA_DIR:-$(cd .. && pwd)/shared/tensorflow_datasets}"
# The note's four, the same losses on disjoint-character groups and
# against EMA prototypes of every training group, the
# item-level baselines, the related systems, the learned poolings, then
# ProtoNet (hours on a 2-core CPU; rerun to resume it).
CONFIGS=(gg_centroid gi_centroid gg_medoid gi_medoid gi_centroid_charsets
         gg_centroid_charsets gi_centroid_prototypes gg_centroid_prototypes
         triplet item_item smog groupface group_loss gi_attention
         gi_soft_medoid protonet)
for name in "${CONFIGS[@]}"; do
  python -m grouprep.main --config="configs/${name}.py" --workdir="runs/${name}" "$@"
done
python -m grouprep.report --runs=runs --out=results "${CONFIGS[@]}"
