#!/usr/bin/env bash
# The jitted evaluation against its NumPy reference (tests/reference_metrics.py)
# on a `:smoke` checkpoint of each method family, and on any finished workdirs
# given as CONFIG=WORKDIR: per metric family the largest relative difference,
# written to results/eval_reference/NAME.json and summarised in
# results/eval_reference/summary.md.
#
#   bash tools/eval_reference_families.sh [--saved] [configs/gi_centroid.py=runs/gi_centroid ...]
#
# --saved compares the metrics_jax.json / metrics_reference.json an earlier
# run left in each workdir instead of evaluating again.
# Cost on a 2-core CPU: about 3 minutes a family (train :smoke, evaluate twice).
set -euo pipefail
cd "$(dirname "$0")/.."
export TFDS_DATA_DIR="${TFDS_DATA_DIR:-$(cd .. && pwd)/shared/tensorflow_datasets}"
OUT=results/eval_reference
WORK="${GROUPREP_REFERENCE_WORK:-runs/eval_reference}"
FAMILIES="${GROUPREP_REFERENCE_FAMILIES:-gi_centroid gi_medoid gg_medoid gi_attention item_item triplet protonet smog groupface group_loss}"
SAVED=()
if [ "${1:-}" = "--saved" ]; then SAVED=(--saved); shift; fi
mkdir -p "$OUT" "$WORK"

for name in $FAMILIES; do
  wd="$WORK/${name}_smoke"
  if [ ${#SAVED[@]} -eq 0 ] && [ ! -f "$wd/metrics.json" ]; then
    python -m grouprep.main --config="configs/$name.py:smoke" --workdir="$wd" \
        --mode=train
  fi
  python tests/reference_metrics.py --config="configs/$name.py:smoke" \
      --workdir="$wd" --out="$OUT/${name}_smoke.json" "${SAVED[@]}"
done
for pair in "$@"; do
  config=${pair%%=*} wd=${pair#*=}
  python tests/reference_metrics.py --config="$config" --workdir="$wd" \
      --out="$OUT/$(basename "${config%.py}")_$(basename "$wd").json" \
      "${SAVED[@]}"
done
python - "$OUT" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
rows = ["# The jitted evaluation against its NumPy reference", "",
        "Written by `bash tools/eval_reference_families.sh`: each checkpoint "
        "evaluated by grouprep's jitted metrics and by their NumPy "
        "predecessors (tests/reference_metrics.py), the untrained encoder "
        "afresh both times. Largest difference over the metrics.json leaves "
        "of each kind: continuous metrics, relative (target: 1e-5); rates of "
        "sampled decisions and their spreads (`/decisions`), absolute: a "
        "rate over n decisions moves by 1/n for each decision that flips "
        "(target: at most 1 flip in 10^4, at float32 ties; the few-shot "
        "rates are over 25,000-100,000 queries).", "",
        "| checkpoint | step | continuous: max relative difference (family) | decisions: max absolute difference (family) |",
        "|---|---|---|---|"]
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
  s = json.load(open(path))
  fams = s["families"]
  def worst(decisions):
    items = [(v["max_diff"], k) for k, v in fams.items()
             if k.endswith("/decisions") == decisions]
    d, k = max(items) if items else (0.0, "-")
    return f"{d:.1e} ({k})"
  rows.append(f"| {os.path.basename(path)[:-5]} | {s['step']} | {worst(False)} "
              f"| {worst(True)} |")
open(os.path.join(out, "summary.md"), "w").write("\n".join(rows) + "\n")
print("\n".join(rows))
PY
