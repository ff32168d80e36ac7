"""Issue 13's comparison: EMA-prototype vs batch candidates, paired by seed.

  python results/compare_candidates.py runs/study13 > results/prototypes_vs_batch.md

Reads RUNS/NAME/seedS/metrics.json and train_log.jsonl for the four configs.
"""
import json
import os
import sys

import numpy as np
from scipy import stats

METRICS = (
    ("unseen ratio (rotation groups)", "eval.unseen_alphabets.distance.ratio"),
    ("unseen dc recall@1, 5 drawings",
     "eval.unseen_alphabets.disjoint_characters.size_curve.5.recall_at_1.mean"),
    ("unseen dc recall@1, all drawings",
     "eval.unseen_alphabets.disjoint_characters.size_curve.all.recall_at_1.mean"),
    ("unseen 20-way 1-shot", "eval.unseen_alphabets.fewshot.20way_1shot.mean"),
    ("Lake error", "eval.lake_one_shot_error"),
    ("held-out ratio (validation)", "eval.heldout_characters.distance.ratio"),
)
PAIRS = (("gi_centroid_prototypes", "gi_centroid"),
         ("gg_centroid_prototypes", "gg_centroid"))


def get(d, dotted):
  for k in dotted.split("."):
    d = d[k]
  return float(d)


def seconds_per_step(workdir):
  """Steady-state training seconds per step: steps 250 -> 500 of the log."""
  rows = {}
  for line in open(os.path.join(workdir, "train_log.jsonl")):
    r = json.loads(line)
    rows[r["step"]] = r
  return (rows[500]["wall_s"] - rows[250]["wall_s"]) / 250


def load(root, name):
  out = {}
  for seed_dir in sorted(os.listdir(os.path.join(root, name))):
    wd = os.path.join(root, name, seed_dir)
    path = os.path.join(wd, "metrics.json")
    if os.path.exists(path):
      m = json.load(open(path))
      vals = {label: get(m, p) for label, p in METRICS}
      vals["s/step"] = seconds_per_step(wd)
      out[seed_dir] = vals
  return out


def fmt(xs):
  xs = np.asarray(xs)
  return f"{xs.mean():.3f} ± {xs.std(ddof=1):.3f}" if len(xs) > 1 else \
      f"{xs.mean():.3f}"


def main(root):
  labels = [l for l, _ in METRICS] + ["s/step"]
  print("| metric | config (prototypes) | mean ± sd | config (batch) | mean ± sd "
        "| paired difference, 95% t-interval | n | measured? |")
  print("|---|---|---|---|---|---|---|---|")
  for proto, batch in PAIRS:
    a, b = load(root, proto), load(root, batch)
    seeds = sorted(set(a) & set(b))
    for label in labels:
      x = np.array([a[s][label] for s in seeds])
      y = np.array([b[s][label] for s in seeds])
      d = x - y
      if len(d) > 1:
        half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
        lo, hi = d.mean() - half, d.mean() + half
        interval = f"{d.mean():+.3f} [{lo:+.3f}, {hi:+.3f}]"
        measured = "yes" if lo > 0 or hi < 0 else "no measurable difference"
      else:
        interval, measured = f"{d.mean():+.3f}", "n < 2"
      print(f"| {label} | {proto} | {fmt(x)} | {batch} | {fmt(y)} | "
            f"{interval} | {len(d)} | {measured} |")


if __name__ == "__main__":
  main(sys.argv[1])
