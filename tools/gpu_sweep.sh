#!/usr/bin/env bash
# One stage of the note's study (projects/group_note: convergence, tune or
# study) on a lent GPU machine, N runs at once (--workers), within a time
# limit; what it brings back lets this machine carry on where it stopped.
#   bash tools/gpu_sweep.sh OUTDIR STAGE [STAGE ARGS...]
#   e.g. bash tools/gpu_sweep.sh "$OUT" tune --workers=12
# The runs train into $WORK/runs/STAGE (a GPU's runs, apart from this
# CPU's); runs whose records (results/records/STAGE, committed) it carries
# are restored there, not trained, and the checkout's records are left as
# they are. Each finished or diverged run's record
# (metrics.json, its logs, run_config.json, diverged.json; report.md) comes
# back under OUTDIR/runs/STAGE/, mirroring runs/STAGE/, and the stage's
# tables under OUTDIR/results/. Here: copy OUTDIR/runs/STAGE/* into a
# folder of its own (say runs/STAGE_gpu) and run the stage with
# --runs=runs/STAGE_gpu --summary-only, which also writes their records
# into results/records/STAGE (commit them; each run's metrics.json names
# the device that trained it: its stack). A run cut by the limit
# (GROUPREP_SWEEP_LIMIT seconds, default 480) does not come back.
# Carried as for tools/accelerator_check.sh (.whl/, .gpu/shared). The dry
# run on a CPU (a minute or two on 2 cores):
#   JAX_PLATFORMS=cpu bash tools/gpu_sweep.sh /tmp/gs tune \
#       --configs=gi_centroid --steps=20 --workers=2
set -uo pipefail
OUT=${1:?usage: bash tools/gpu_sweep.sh OUTDIR STAGE [ARGS...]}
STAGE=${2:?usage: bash tools/gpu_sweep.sh OUTDIR STAGE [ARGS...]}
shift 2
case "$STAGE" in convergence|tune|study) ;;
  *) echo "STAGE must be convergence, tune or study, not $STAGE" >&2; exit 2;;
esac
WORK=${GROUPREP_CHECK_WORK:-/tmp/grouprep-sweep}
LOG_NAME=sweep.log
source "$(dirname "$0")/gpu_env.sh"
# The stage reads the study's step count (and the study its tuned settings)
# from --out: this checkout's results/convergence_schedules.json (and
# results/tuning/chosen.json), never a file an earlier call left in $WORK.
rm -rf "$WORK/results" && mkdir -p "$WORK/results/tuning"
cp results/convergence_schedules.json "$WORK/results/" 2>/dev/null
if [ "$STAGE" = study ]; then
  cp results/tuning/chosen.json "$WORK/results/tuning/" 2>/dev/null
fi
# The committed records are restored from a copy, and the stage's new ones
# written there: this checkout's results/records stays as committed (a
# record of other settings, a dry run's, would set the committed one aside).
mkdir -p "$WORK/records"
rm -rf "$WORK/records/$STAGE"
cp -r "results/records/$STAGE" "$WORK/records/$STAGE" 2>/dev/null
log "$STAGE $*: on $($PY -c 'import jax; print(jax.devices()[0].device_kind)' 2>&1 | tail -1)"
# SIGTERM at the limit: the sweep stops its workers (grouprep.sweep).
timeout --signal=TERM --kill-after=20 "${GROUPREP_SWEEP_LIMIT:-480}" \
    $PY -m projects.group_note."$STAGE" --runs="$WORK/runs/$STAGE" \
    --out="$WORK/results" --records="$WORK/records/$STAGE" "$@" \
    > "$OUT/$STAGE.log" 2>&1
log "$STAGE: rc=$? ($(grep -c ': done in' "$OUT/$STAGE.log") runs done)"
(cd "$WORK" && find "runs/$STAGE" \( -name metrics.json -o -name diverged.json \) \
    -printf '%h\n' | sort -u) |
  while read -r wd; do
    mkdir -p "$OUT/$wd"
    cp "$WORK/$wd"/*.json "$WORK/$wd"/*.jsonl "$WORK/$wd"/report.md \
        "$OUT/$wd/" 2>/dev/null
  done
cp -r "$WORK/results" "$OUT/results" 2>/dev/null
log "done; $(find "$OUT/runs" -name metrics.json | wc -l) finished runs in $OUT/runs"
