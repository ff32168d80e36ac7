"""Runs of one study configuration made elsewhere (another device, another
stack) against the study's recorded means: is each headline metric's mean
over the new seeds within 3 sd / sqrt(n) of the study's mean?

  python tools/compare_with_study.py --config gi_centroid \
      --runs W/seed0 W/seed1 W/seed2 [--study results/study_metrics.json] \
      [--out compare.json]

sd and n are the study's (its seed spread); the new runs must use the
study's settings (2,000 steps; seeds 0, 1, 2). Prints one line per metric
and exits 1 when a metric is outside its band.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from grouprep import study  # pylint: disable=g-import-not-at-top


def leaf(metrics: dict, dotted: str):
  """A headline key of study.HEADLINE in a metrics.json (under "eval", or
  at the top level)."""
  node = metrics.get("eval", {})
  for part in dotted.split("."):
    node = node.get(part) if isinstance(node, dict) else None
  if node is None and "." not in dotted:
    node = metrics.get(dotted)
  return node


def compare(config: str, runs, study_metrics: dict) -> list:
  recorded = study_metrics[config]
  rows = []
  for label, key, _ in study.HEADLINE:
    values = [leaf(json.load(open(os.path.join(r, "metrics.json"))), key)
              for r in runs]
    values = [v for v in values if v is not None]
    ref = recorded.get(f"eval.{key}") or recorded.get(key)
    if not values or ref is None:
      continue
    band = 3 * ref["sd"] / math.sqrt(ref["n"])
    mean = float(np.mean(values))
    rows.append({"metric": label, "key": key, "new_mean": mean,
                 "new_n": len(values), "study_mean": ref["mean"],
                 "study_sd": ref["sd"], "study_n": ref["n"], "band": band,
                 "within": abs(mean - ref["mean"]) <= band})
  return rows


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--config", required=True)
  p.add_argument("--runs", nargs="+", required=True)
  p.add_argument("--study", default=os.path.join("results",
                                                 "study_metrics.json"))
  p.add_argument("--out", default=None)
  args = p.parse_args(argv)
  with open(args.study) as f:
    rows = compare(args.config, args.runs, json.load(f))
  for r in rows:
    print(f"{r['metric']:50s} new {r['new_mean']:.4f} (n={r['new_n']})  "
          f"study {r['study_mean']:.4f} +- {r['study_sd']:.4f} "
          f"(n={r['study_n']})  |diff| {abs(r['new_mean'] - r['study_mean']):.4f}"
          f" {'<=' if r['within'] else '>'} 3 sd/sqrt(n) = {r['band']:.4f}")
  if args.out:
    with open(args.out, "w") as f:
      json.dump(rows, f, indent=2)
  return 0 if rows and all(r["within"] for r in rows) else 1


if __name__ == "__main__":
  sys.exit(main())
