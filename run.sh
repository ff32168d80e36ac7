#!/usr/bin/env bash
# Trains and evaluates every configuration into runs/NAME, then prints each
# metrics.json's headline. Extra arguments go to every run, e.g.
#   bash run.sh --config.train.num_steps=100
set -euo pipefail
cd "$(dirname "$0")"
export TFDS_DATA_DIR="${TFDS_DATA_DIR:-$(cd .. && pwd)/shared/tensorflow_datasets}"
CONFIGS=(gg_centroid gi_centroid gg_medoid gi_medoid)
for name in "${CONFIGS[@]}"; do
  python -m grouprep.main --config="configs/${name}.py" --workdir="runs/${name}" "$@"
done
python - "${CONFIGS[@]}" <<'PY'
import json, sys
print(f"{'config':<12} {'same':>8} {'diff':>8} {'ratio':>7} {'untrained ratio':>16}")
for name in sys.argv[1:]:
  m = json.load(open(f"runs/{name}/metrics.json"))
  d = m["eval"]["unseen_alphabets"]["distance"]
  u = m["untrained"]["unseen_alphabets"]["distance"]
  print(f"{name:<12} {d['same_label_mean']:8.3f} {d['diff_label_mean']:8.3f} "
        f"{d['ratio']:7.3f} {u['ratio']:16.3f}")
PY
