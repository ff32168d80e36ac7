"""Runs of one study configuration made elsewhere (another device, another
stack) against the study's recorded means: a screen, not a test of
equality. For each headline metric it reports the new runs' values, mean and
sd, and whether their mean lies within 3 sd / sqrt(n) of the study's mean
(sd and n the study's: its seed spread).

  python tools/compare_with_study.py --config gi_centroid \
      --runs W/seed0 W/seed1 W/seed2 [--study results/study_metrics.json] \
      [--out compare.json]

The runs must have the study's step count and configuration (checked
against the study's recorded `step`; a run of another step count, e.g. a
:smoke run, is refused). Prints one line per metric and exits 1 when a
metric is outside its band or a run does not match.

  python tools/compare_with_study.py --config gi_centroid --flags

prints the grouprep.main overrides that train CONFIG as the study did (not
its evaluations during training, which change no final metric): its step
count and tuned settings (study_settings.json beside --study), or, for
a study that wrote none, the step count of its study_metrics.json.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from projects.group_note.comparisons import HEADLINE  # noqa: E402


def leaf(metrics: dict, dotted: str):
  """A headline key of the study's HEADLINE in a metrics.json (under "eval", or
  at the top level)."""
  node = metrics.get("eval", {})
  for part in dotted.split("."):
    node = node.get(part) if isinstance(node, dict) else None
  if node is None and "." not in dotted:
    node = metrics.get(dotted)
  return node


class MismatchError(ValueError):
  """A run is not of the study's configuration or step count."""


def compare(config: str, runs, study_metrics: dict) -> list:
  recorded = study_metrics[config]
  loaded = []
  for r in runs:
    with open(os.path.join(r, "metrics.json")) as f:
      m = json.load(f)
    if m.get("config") != config or m.get("step") != recorded["step"]["mean"]:
      raise MismatchError(
          f"{r}: config {m.get('config')!r} at step {m.get('step')}; the "
          f"study's {config!r} ran {recorded['step']['mean']:.0f} steps.")
    loaded.append(m)
  rows = []
  for label, key, _ in HEADLINE:
    values = [leaf(m, key) for m in loaded]
    values = [float(v) for v in values if v is not None]
    ref = recorded.get(f"eval.{key}") or recorded.get(key)
    if not values or ref is None:
      continue
    band = 3 * ref["sd"] / math.sqrt(ref["n"])
    mean = float(np.mean(values))
    rows.append({"metric": label, "key": key, "new_values": values,
                 "new_mean": mean, "new_n": len(values),
                 "new_sd": float(np.std(values, ddof=1)) if len(values) > 1
                           else None,
                 "study_mean": ref["mean"], "study_sd": ref["sd"],
                 "study_n": ref["n"], "band": band,
                 "within": abs(mean - ref["mean"]) <= band})
  return rows


def study_flags(config: str, study_metrics_path: str) -> list:
  """grouprep.main's --config.* overrides of the study's run of CONFIG."""
  settings_path = os.path.join(os.path.dirname(study_metrics_path),
                               "study_settings.json")
  if os.path.exists(settings_path):
    with open(settings_path) as f:
      settings = json.load(f)
    steps, tuned = settings["steps"], settings.get("tuned", {}).get(config, {})
  else:
    with open(study_metrics_path) as f:
      steps, tuned = json.load(f)[config]["step"]["mean"], {}
  return [f"--config.train.num_steps={int(steps)}"] + [
      f"--config.{key}={value}" for key, value in sorted(tuned.items())]


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--config", required=True)
  p.add_argument("--runs", nargs="+")
  p.add_argument("--study", default=os.path.join("results",
                                                 "study_metrics.json"))
  p.add_argument("--out", default=None)
  p.add_argument("--flags", action="store_true",
                 help="print the study's training overrides of --config")
  args = p.parse_args(argv)
  if args.flags:
    print(" ".join(study_flags(args.config, args.study)))
    return 0
  if not args.runs:
    p.error("--runs is required (or --flags)")
  with open(args.study) as f:
    try:
      rows = compare(args.config, args.runs, json.load(f))
    except MismatchError as e:
      print(f"compare_with_study: {e}", file=sys.stderr)
      return 1
  for r in rows:
    sd = "" if r["new_sd"] is None else f" +- {r['new_sd']:.4f}"
    print(f"{r['metric']:50s} new {r['new_mean']:.4f}{sd} (n={r['new_n']})  "
          f"study {r['study_mean']:.4f} +- {r['study_sd']:.4f} "
          f"(n={r['study_n']})  |diff| {abs(r['new_mean'] - r['study_mean']):.4f}"
          f" {'<=' if r['within'] else '>'} 3 sd/sqrt(n) = {r['band']:.4f}")
  if args.out:
    with open(args.out, "w") as f:
      json.dump(rows, f, indent=2)
  return 0 if rows and all(r["within"] for r in rows) else 1


if __name__ == "__main__":
  sys.exit(main())
