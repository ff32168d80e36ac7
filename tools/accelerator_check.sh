#!/usr/bin/env bash
# The prepared accelerator check: on a GPU machine with no network whose
# Python already has JAX with CUDA, flax, optax, orbax-checkpoint and chex,
# within ~9 minutes:
#   1. the stack (versions, devices) and the carried wheels installed;
#   2. the step benchmark (both loss settings, precision highest and
#      default, a CPU-sized and a GPU-sized batch) and the loop benchmark;
#   3. the README's main job (gi_centroid, 500 steps, train + evaluate);
#   4. ProtoNet's time to 95.5 % 20-way 1-shot on Vinyals val (trained on
#      vinyals_train; test is not read), capped in time;
#   5. gi_centroid at the study's settings (the step count and tuned
#      settings of results/: tools/compare_with_study.py --flags) x seeds 0, 1, 2, in
#      parallel on the one GPU, compared with the CPU study's means
#      (tools/compare_with_study.py: each headline metric within 3 sd/sqrt(n));
#   6. what TF32 and bf16 do to a trained gi_medoid's medoids
#      (tools/precision_effect.py);
#   7. the accelerator test lane (GROUPREP_TEST_PLATFORM=gpu, fast lane).
# Every part has its own time limit and writes into OUTDIR; one failing part
# does not stop the others. The summary is OUTDIR/summary.json.
#
# What travels with the checkout (git-ignored): .whl/ (the wheels the GPU's
# Python lacks: ml-collections, tensorflow-datasets, array-record,
# tensorboardX and their small dependencies, and grouprep's own flax, optax,
# orbax-checkpoint and chex versions) and .gpu/shared/ (the prepared
# Omniglot: tensorflow_datasets/ and omniglot/ from ../shared), both built
# by tools/prepare_gpu_carry.sh. Usage:
#   bash tools/accelerator_check.sh OUTDIR
# A run cut short (an outer time limit) still leaves each finished part's
# files; GROUPREP_CHECK_SUMMARY_ONLY=1 then writes summary.json from them.
# The dry run on a CPU (smoke sizes, ~10 minutes on 2 cores):
#   JAX_PLATFORMS=cpu GROUPREP_CHECK_SCALE=dry GROUPREP_TEST_PLATFORM=cpu \
#       bash tools/accelerator_check.sh /tmp/acc
set -uo pipefail
OUT=${1:?usage: bash tools/accelerator_check.sh OUTDIR}
SCALE=${GROUPREP_CHECK_SCALE:-full}
WORK=${GROUPREP_CHECK_WORK:-/tmp/grouprep-check}
LOG_NAME=check.log
# ---- 1. Wheels, data, the stack (tools/gpu_env.sh). ----
source "$(dirname "$0")/gpu_env.sh"
part() {  # part NAME SECONDS COMMAND...: runs it with a limit, logs rc/time
  local name=$1 limit=$2; shift 2
  local s=$(date +%s)
  timeout --signal=TERM --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  log "$name: rc=$rc in $(( $(date +%s) - s ))s"
  echo "{\"part\": \"$name\", \"rc\": $rc, \"seconds\": $(( $(date +%s) - s ))}" >> "$WORK/parts.jsonl"
  return $rc
}
# A fresh start: earlier runs' workdirs would be resumed, not retrained.
[ -n "${GROUPREP_CHECK_SUMMARY_ONLY:-}" ] || rm -rf "$WORK/parts.jsonl" \
    "$WORK/main" "$WORK/protonet" "$WORK/study" "$WORK/gi_medoid"

GROUPREP_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown) \
$PY - > "$OUT/stack.json" 2>> "$OUT/check.log" <<'EOF'
import json, os, sys
import jax, jaxlib, flax, optax, orbax.checkpoint as ocp, chex, numpy
print(json.dumps({"python": sys.version.split()[0], "jax": jax.__version__,
                  "jaxlib": jaxlib.__version__, "flax": flax.__version__,
                  "optax": optax.__version__, "orbax": ocp.__version__,
                  "chex": chex.__version__, "numpy": numpy.__version__,
                  "backend": jax.default_backend(),
                  "devices": [d.device_kind for d in jax.devices()],
                  "commit": os.environ.get("GROUPREP_COMMIT")}))
EOF
log "stack: $(cat "$OUT/stack.json")"
nvidia-smi -L >> "$OUT/check.log" 2>&1 || true

if [ -n "${GROUPREP_CHECK_SUMMARY_ONLY:-}" ]; then
  SCALE=summary  # the summary of what an earlier (perhaps cut) run left
fi
if [ "$SCALE" = summary ]; then
  :
elif [ "$SCALE" = dry ]; then
  SMOKE=":smoke"; STEP_STEPS=3; LOOP_STEPS=60; BIG="32 4"
  STUDY_FLAGS="--config.train.num_steps=30"; PROTO_LIMIT=120; TEST_LIMIT=240; MEDOID_STEPS=30
  MAIN_LIMIT=300; STUDY_LIMIT=400; MAXCHARS="--max-characters 40"
else
  SMOKE=""; STEP_STEPS=30; LOOP_STEPS=400; BIG="256 8"
  STUDY_FLAGS=$($PY tools/compare_with_study.py --config gi_centroid --flags)
  PROTO_LIMIT=110; TEST_LIMIT=170; MEDOID_STEPS=500
  # 2000 steps and the evaluation took 62 s on an H200, 3 runs at once.
  steps=$(echo "$STUDY_FLAGS" | sed -n 's/.*num_steps=\([0-9]*\).*/\1/p')
  MAIN_LIMIT=130; STUDY_LIMIT=$(( 120 + ${steps:-2000} / 20 )); MAXCHARS=""
fi

if [ "$SCALE" != summary ]; then
# ---- 2. Benchmarks (alone on the device, so their timings are clean). ----
for precision in highest default; do
  part "bench_step_gi_${precision}" 60 $PY -m grouprep.benchmark --what=step \
      --num-devices 1 --classes 32 --items 4 --loss group_item \
      --pooling centroid --precision $precision --steps $STEP_STEPS
  part "bench_step_gg_medoid_${precision}" 60 $PY -m grouprep.benchmark \
      --what=step --num-devices 1 --classes 32 --items 4 --loss group_group \
      --pooling medoid --precision $precision --steps $STEP_STEPS
  set -- $BIG
  part "bench_step_big_${precision}" 60 $PY -m grouprep.benchmark --what=step \
      --num-devices 1 --classes "$1" --items "$2" --precision $precision \
      --steps $STEP_STEPS
done
part bench_loop 120 $PY -m grouprep.benchmark --what=loop --num-devices 1 \
    --steps $LOOP_STEPS
grep -h '^{' "$OUT"/bench_*.log > "$OUT/bench.jsonl"

# ---- 3. The README's main job. ----
part main_job "$MAIN_LIMIT" $PY -m grouprep.main \
    --config=configs/gi_centroid.py$SMOKE --workdir="$WORK/main"
cp "$WORK/main/metrics.json" "$OUT/main_metrics.json" 2>/dev/null
cp "$WORK/main/train_log.jsonl" "$OUT/main_train_log.jsonl" 2>/dev/null

# ---- 4. ProtoNet's time to 95.5 % on Vinyals val (capped). ----
part protonet "$PROTO_LIMIT" $PY -m grouprep.main \
    --config=configs/protonet.py$SMOKE --workdir="$WORK/protonet" --mode=train \
    --config.data.train_split=vinyals_train --config.eval.every=250
cp "$WORK/protonet/eval_log.jsonl" "$OUT/protonet_eval_log.jsonl" 2>/dev/null

# ---- 5-7 in parallel: the study configuration x 3 seeds, gi_medoid's
# precision effect, the test lane. ----
log "study runs: $STUDY_FLAGS"
# No flags (compare_with_study could not read results/): no study runs,
# rather than runs at the config's defaults that the comparison refuses.
for seed in 0 1 2; do
  [ -n "$STUDY_FLAGS" ] || { log "study_seed$seed: skipped, no study flags"; break; }
  part "study_seed$seed" "$STUDY_LIMIT" $PY -m grouprep.main \
      --config=configs/gi_centroid.py$SMOKE --workdir="$WORK/study/seed$seed" \
      --config.seed=$seed $STUDY_FLAGS &
done
part precision_effect "$STUDY_LIMIT" bash -c "
  $PY -m grouprep.main --config=configs/gi_medoid.py$SMOKE \
      --workdir=$WORK/gi_medoid --mode=train \
      --config.train.num_steps=$MEDOID_STEPS &&
  $PY tools/precision_effect.py --workdir=$WORK/gi_medoid \
      --precisions=high,default,bf16 $MAXCHARS --out=$OUT/precision_effect.json" &
# pytest-xdist, where the machine has it, runs the lane on 4 workers.
XDIST=$($PY -c "import xdist" 2>/dev/null && echo "-n 4")
GROUPREP_TEST_PLATFORM=${GROUPREP_TEST_PLATFORM:-gpu} part tests "$TEST_LIMIT" \
    $PY -m pytest tests -m "not slow" $XDIST -v --tb=short -rfE -p no:cacheprovider \
    --junitxml="$OUT/tests.xml" &
wait
part study_compare 60 $PY tools/compare_with_study.py --config gi_centroid \
    --runs "$WORK"/study/seed{0,1,2} --out "$OUT/study_compare.json"

fi  # SCALE != summary

# ---- Summary. ----
$PY - "$OUT" "$WORK" > "$OUT/summary.json" <<'EOF'
import json, os, sys
out, work = sys.argv[1:3]
def load(path, lines=False):
  try:
    with open(path) as f:
      return [json.loads(l) for l in f if l.strip()] if lines else json.load(f)
  except (OSError, ValueError):
    return None
s = {"stack": load(f"{out}/stack.json"),
     "parts": load(f"{work}/parts.jsonl", lines=True),
     "bench": load(f"{out}/bench.jsonl", lines=True)}
m = load(f"{out}/main_metrics.json")
if m:
  ev = m["eval"]["unseen_alphabets"]
  s["main_job"] = {"step": m["step"], "eval_seconds": m.get("eval_seconds"),
                   "unseen_ratio": ev["distance"]["ratio"],
                   "unseen_20way_1shot": ev["fewshot"]["20way_1shot"]["mean"],
                   "matmul_precision": m.get("matmul_precision")}
  log = load(f"{out}/main_train_log.jsonl", lines=True) or []
  if log:
    s["main_job"]["train_wall_s"] = log[-1].get("wall_s")
curve = load(f"{out}/protonet_eval_log.jsonl", lines=True) or []
key = "vinyals_val/20way_1shot"
s["protonet_val_curve"] = [(r["step"], round(r["wall_s"], 1), r[key])
                           for r in curve if key in r]
hit = [r for r in curve if r.get(key, 0) >= 0.955]
s["protonet_time_to_0.955_s"] = hit[0]["wall_s"] if hit else None
s["study_compare"] = load(f"{out}/study_compare.json")
s["precision_effect"] = load(f"{out}/precision_effect.json")
print(json.dumps(s, indent=1))
EOF
log "done in $(( $(date +%s) - t0 ))s; summary: $OUT/summary.json"
tail -3 "$OUT/tests.log" 2>/dev/null
