"""Two sets of finished runs of the same configurations and seeds, paired run
by run: how far apart do the same commands land? E.g. one command trained
on two Python/JAX stacks (docs/toolchain.md), or before and after a change
that should not move training.

  python tools/paired_records.py results/records/convergence/steps4000 \\
      results/records/study --configs=gg_centroid,gg_medoid,gi_medoid

Each folder holds CONFIG/seedS/metrics.json (a sweep's runs or its records
in results/records/). For each configuration and metric present in both it
prints B - A per seed, per configuration and over every pair of every
listed configuration the mean difference with its 95% t-interval
(grouprep.stats), and the
stacks that trained each side. Metrics are dotted paths under metrics.json's
"eval"; the defaults are held-out (validation) ones, which every run has.
"""
import argparse
import glob
import json
import os
import sys
from typing import Dict, List, Optional, Sequence

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
# pylint: disable=g-import-not-at-top,wrong-import-position
from grouprep import report
from grouprep import stats

METRICS = (
    ("held-out dc recall@1, 5 drawings",
     "heldout_characters.disjoint_characters.size_curve.5.recall_at_1.mean"),
    ("held-out 20-way 1-shot", "heldout_characters.fewshot.20way_1shot.mean"),
    ("held-out ratio (rotation)", "heldout_characters.distance.ratio"),
)


def runs(folder: str, config: str) -> Dict[int, Dict]:
  """{seed: metrics.json} of folder/config/seed*/."""
  out = {}
  for path in glob.glob(os.path.join(folder, config, "seed*", "metrics.json")):
    seed = os.path.basename(os.path.dirname(path))[len("seed"):]
    if seed.isdigit():
      with open(path) as f:
        out[int(seed)] = json.load(f)
  return out


def stack(metrics: Dict) -> str:
  """The stack that trained a run, with its libraries where recorded."""
  s = metrics.get("trained_stack") or metrics.get("stack") or {}
  libraries = "".join(f", {k} {v}" for k, v in
                      sorted((s.get("libraries") or {}).items()))
  return (f"Python {s.get('python', '?')}, jax {s.get('jax', '?')}"
          f"{libraries}, {s.get('cpu') or s.get('device_kind', '?')}")


def pair(a: str, b: str, configs: Sequence[str],
         metrics: Sequence = METRICS) -> Dict:
  """{"rows": [(config, seed, label, a, b)], "pooled": {label: paired
  difference of b - a over every row}, "by_config": {config: the same over
  its rows}, "stacks": {"a": [...], "b": [...]}}."""
  rows, stacks = [], {"a": set(), "b": set()}
  for config in configs:
    ra, rb = runs(a, config), runs(b, config)
    for seed in sorted(set(ra) & set(rb)):
      stacks["a"].add(stack(ra[seed]))
      stacks["b"].add(stack(rb[seed]))
      for label, path in metrics:
        va = report.get_dotted(ra[seed].get("eval", {}), path)
        vb = report.get_dotted(rb[seed].get("eval", {}), path)
        if va is not None and vb is not None:
          rows.append((config, seed, label, float(va), float(vb)))
  def paired(keep):
    out = {}
    for label, _ in metrics:
      xs = [(r[3], r[4]) for r in rows if r[2] == label and keep(r)]
      if xs:
        out[label] = stats.paired_difference([x[1] for x in xs],
                                             [x[0] for x in xs])
    return out
  return {"rows": rows, "pooled": paired(lambda r: True),
          "by_config": {c: paired(lambda r, c=c: r[0] == c)
                        for c in configs if any(r[0] == c for r in rows)},
          "stacks": {k: sorted(v) for k, v in stacks.items()}}


def render(result: Dict, a: str, b: str) -> str:
  lines = [f"A: {a} ({'; '.join(result['stacks']['a']) or 'no runs'})",
           f"B: {b} ({'; '.join(result['stacks']['b']) or 'no runs'})", "",
           "| config | seed | metric | A | B | B - A |", "|---|---|---|---|---|---|"]
  for config, seed, label, va, vb in result["rows"]:
    lines.append(f"| {config} | {seed} | {label} | {va:.4f} | {vb:.4f} | "
                 f"{vb - va:+.4f} |")
  # Per configuration, then pooled over them (where the configurations
  # move in opposite directions the pooled mean hides it: read both).
  for scope, by_label in list(result["by_config"].items()) + [
      ("every configuration", result["pooled"])]:
    lines.append("")
    for label, d in by_label.items():
      spread = (f"[{d['low']:+.4f}, {d['high']:+.4f}] " if d["low"] == d["low"]
                else "(no interval) ")
      lines.append(f"{scope}, {label}: B - A = {d['mean']:+.4f} {spread}"
                   f"over {d['n']} paired runs (p {d['p']:.3g})")
  return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("a", help="folder of CONFIG/seedS/metrics.json")
  p.add_argument("b", help="the same, the other side")
  p.add_argument("--configs", required=True,
                 help="comma-separated configuration names")
  args = p.parse_args(argv)
  for folder in (args.a, args.b):
    if not os.path.isdir(folder):
      p.error(f"{folder} is not a folder")
  result = pair(args.a, args.b, args.configs.split(","))
  if not result["rows"]:
    print(f"no configuration and seed finished in both {args.a} and "
          f"{args.b}", file=sys.stderr)
    return 1
  print(render(result, args.a, args.b))
  return 0


if __name__ == "__main__":
  sys.exit(main())
