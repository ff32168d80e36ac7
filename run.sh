#!/usr/bin/env bash
# The note's study: every alphabet-trained configuration for seeds 0, 1, 2 at
# the study's step count (python -m projects.group_note.study;
# runs/study/NAME/seedS), resuming whatever was interrupted and skipping what
# is finished, then results/summary.md, the per-seed and paired tables and
# the plots; then ProtoNet on the Vinyals split (hours on a 2-core CPU; one
# seed each; rerun to resume): its recipe on vinyals_train reading Vinyals
# val alone, then the reported run (`:final`, a fresh seed on trainval,
# Vinyals test read once at its end), reported in results/protonet/. Extra
# arguments go to the study, e.g.
#   bash run.sh --seeds=0 --configs=gi_centroid,gg_centroid
set -euo pipefail
cd "$(dirname "$0")"
export TFDS_DATA_DIR="${TFDS_DATA_DIR:-$(cd .. && pwd)/shared/tensorflow_datasets}"
python -m projects.group_note.study "$@"
python -m grouprep.main --config=configs/protonet.py --workdir=runs/protonet
python -m grouprep.main --config=configs/protonet.py:final --workdir=runs/protonet_final
python -m grouprep.report --runs=runs --out=results/protonet protonet_final
