#!/usr/bin/env bash
# The jitted evaluation against its NumPy reference (tests/reference_metrics.py)
# on a `:smoke` checkpoint of each method family, and on any finished workdirs
# given as CONFIG=WORKDIR: per metric family the largest relative difference,
# written to results/eval_reference/NAME.json and summarised in
# results/eval_reference/summary.md.
#
#   bash tools/eval_reference_families.sh [configs/gi_centroid.py=runs/gi_centroid ...]
#
# Cost on a 2-core CPU: about 3 minutes a family (train :smoke, evaluate twice).
set -euo pipefail
cd "$(dirname "$0")/.."
export TFDS_DATA_DIR="${TFDS_DATA_DIR:-$(cd .. && pwd)/shared/tensorflow_datasets}"
OUT=results/eval_reference
WORK="${GROUPREP_REFERENCE_WORK:-runs/eval_reference}"
FAMILIES="${GROUPREP_REFERENCE_FAMILIES:-gi_centroid gi_medoid gg_medoid gi_attention item_item triplet protonet smog groupface group_loss}"
mkdir -p "$OUT" "$WORK"

for name in $FAMILIES; do
  wd="$WORK/${name}_smoke"
  if [ ! -f "$wd/metrics.json" ]; then
    python -m grouprep.main --config="configs/$name.py:smoke" --workdir="$wd" \
        --mode=train
  fi
  python tests/reference_metrics.py --config="configs/$name.py:smoke" \
      --workdir="$wd" --out="$OUT/${name}_smoke.json"
done
for pair in "$@"; do
  config=${pair%%=*} wd=${pair#*=}
  python tests/reference_metrics.py --config="$config" --workdir="$wd" \
      --out="$OUT/$(basename "${config%.py}")_$(basename "$wd").json"
done
python - "$OUT" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
rows = ["# The jitted evaluation against its NumPy reference", "",
        "Written by `bash tools/eval_reference_families.sh`: each checkpoint "
        "evaluated by grouprep's jitted metrics and by their NumPy "
        "predecessors (tests/reference_metrics.py), the untrained encoder "
        "afresh both times. Largest relative difference over the metrics.json "
        "leaves of each kind: continuous metrics (target: 1e-5), and rates "
        "of sampled decisions (`/decisions`; for a rate of at most 1 the "
        "relative difference bounds the absolute one; target: 1e-4).", "",
        "| checkpoint | step | continuous: max rel diff (family) | decisions: max diff (family) | eval s, jitted / NumPy |",
        "|---|---|---|---|---|"]
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
  s = json.load(open(path))
  fams = s["families"]
  def worst(decisions):
    items = [(v["max_rel_diff"], k) for k, v in fams.items()
             if k.endswith("/decisions") == decisions]
    d, k = max(items) if items else (0.0, "-")
    return f"{d:.1e} ({k})"
  e = s["eval_seconds"]
  rows.append(f"| {os.path.basename(path)[:-5]} | {s['step']} | {worst(False)} "
              f"| {worst(True)} | {e['jax']:.1f} / {e['reference']:.1f} |")
open(os.path.join(out, "summary.md"), "w").write("\n".join(rows) + "\n")
print("\n".join(rows))
PY
