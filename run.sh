#!/usr/bin/env bash
# The note's whole study, in the order each stage needs the one before
# (projects/group_note/README.md says why each exists; every stage resumes
# its own runs and skips finished ones, so rerun this to continue):
#   1. convergence: the note's four at 1000, 2000, 4000 steps, 3 seeds,
#      each its own schedule -> results/convergence_schedules.json;
#   2. tune: every configuration's learning rate x key parameter on
#      validation, seed 100, the same budget of steps for each at the
#      study's step count -> results/tuning/chosen.json;
#   3. study: every configuration at its chosen settings, seeds 0, 1, 2
#      -> results/summary.md, study_*.md, plots;
#   4. ProtoNet on the Vinyals split: its recipe on vinyals_train reading
#      Vinyals val alone, then the reported run (`:final`, a fresh seed on
#      trainval, Vinyals test read once at its end) -> results/protonet/;
#   5. docs: README, docs/ and config docstrings from results/.
# Each finished run's record goes to results/records/: commit it to keep
# it (a fresh checkout restores it instead of training it again).
# `python -m projects.group_note.progress` prints the runs left per stage
# and the hours they cost on a 2-core CPU (tens of hours in all). On a GPU,
# WORKERS=N trains N runs of each stage at once (docs/accelerators.md).
# Extra arguments go to the study alone (convergence and tune run whole),
# e.g. bash run.sh --configs=gi_centroid,gg_centroid
set -euo pipefail
cd "$(dirname "$0")"
export TFDS_DATA_DIR="${TFDS_DATA_DIR:-$(cd .. && pwd)/shared/tensorflow_datasets}"
WORKERS="${WORKERS:-1}"
python -m projects.group_note.convergence --steps=1000,2000,4000 --seeds=0,1,2 \
    --workers="$WORKERS"
python -m projects.group_note.tune --workers="$WORKERS"
python -m projects.group_note.study --seeds=0,1,2 --workers="$WORKERS" "$@"
# Vinyals test is read once: not again once its reading is in results/.
if [ ! -f results/protonet/protonet_final_metrics.json ]; then
  python -m grouprep.main --config=configs/protonet.py --workdir=runs/protonet
  python -m grouprep.main --config=configs/protonet.py:final --workdir=runs/protonet_final
  python -m grouprep.report --runs=runs --out=results/protonet protonet_final
fi
python -m projects.group_note.docs
