"""The note's comparison over seeds: every alphabet-trained configuration,
trained and evaluated once per seed, then summarised with mean ± sd and n,
paired differences with 95% t-intervals, and convergence curves.

  python -m grouprep.study --seeds=0,1,2

Each (config, seed) trains into RUNS/CONFIG/seedS (default runs/study) with
config.seed = S, so the held-out characters (the validation split) follow
the seed: they are part of the spread. A run whose metrics.json is at the
study's step count is skipped; an interrupted one resumes from its last
checkpoint (train.train's own resume path), so the same command continues a
study that takes many hours, and rerunning a finished study trains nothing
and rewrites the same tables. A run that fails is named and the others go
on; the exit status is then 1. Each run's untrained encoder is evaluated
once per (seed, model, data, pooling, evaluation settings) and reused by the
configurations that share it (evaluate.reuse_or_evaluate), and compilations
persist in the grouprep cache (main.configure_compilation_cache).

The note's four configurations are also evaluated every --eval-every steps on
the held-out characters of the training alphabets (the validation split:
the note's ratio, the disjoint-character recall@1 and few-shot accuracy, in
eval_log.jsonl); unseen alphabets are read once, at the end. ProtoNet is not
in the study (hours per run on the Vinyals split).

Writes into --out (default results/): summary.md (mean ± sd, n, per config;
then, written from the tables, the note's question metric by metric, one
finding per compared pair and the convergence table), study_per_seed.md
(every seed's row), study_paired.md (paired differences with 95%
t-intervals: between configurations, each against its untrained encoder,
and what training adds under each pooling), study_metrics.json (mean, sd,
n of every numeric leaf of metrics.json), convergence_*.png (one per
metric, a line per configuration, band = sd) and study_configs.png (every
configuration's seeds, mean ± sd and untrained encoder, a panel per
headline metric). A difference is tested only over >= 3 paired seeds (SPEC
§5) and claimed only where its interval excludes 0.
"""
import argparse
import dataclasses
import json
import math
import os
import sys
import time
import traceback
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

# SPEC §5: a difference is claimed only over >= 3 seeds.
MIN_SEEDS = 3
NOTE_FOUR = ("gg_centroid", "gi_centroid", "gg_medoid", "gi_medoid")
# The baselines, related systems and other poolings, then the note's
# configurations trained on charset groups, on augmented images or against
# prototypes.
OTHERS = ("item_item", "triplet", "group_loss", "smog", "groupface",
          "gi_attention", "gi_soft_medoid")
VARIANTS = ("gi_centroid_charsets", "gg_centroid_charsets",
            "gi_centroid_augmented", "gi_centroid_prototypes",
            "gg_centroid_prototypes")
CONFIGS = NOTE_FOUR + OTHERS + VARIANTS
# What the note's four log during training, on the validation split.
CONVERGENCE_EVALS = ("distance", "disjoint_characters", "fewshot")
CONVERGENCE_METRICS = (
    ("heldout_characters/ratio", "note's ratio (rotation groups)"),
    ("heldout_characters/dc_recall_at_1",
     "disjoint-character recall@1 (all drawings)"),
    ("heldout_characters/20way_1shot", "20-way 1-shot accuracy"),
)
# The headline metrics of the paired comparison: (label, path in
# metrics.json's "eval", lower is better).
HEADLINE = (
    ("unseen ratio (rotation)", "unseen_alphabets.distance.ratio", False),
    ("unseen dc recall@1, 5 drawings",
     "unseen_alphabets.disjoint_characters.size_curve.5.recall_at_1.mean",
     False),
    ("unseen dc recall@1, all drawings",
     "unseen_alphabets.disjoint_characters.size_curve.all.recall_at_1.mean",
     False),
    ("unseen 20-way 1-shot", "unseen_alphabets.fewshot.20way_1shot.mean",
     False),
    ("Lake error", "lake_one_shot_error", True),
    ("held-out ratio (validation)", "heldout_characters.distance.ratio",
     False),
    ("held-out dc recall@1, all drawings (validation)",
     "heldout_characters.disjoint_characters.size_curve.all.recall_at_1.mean",
     False),
)


def untrained_name(name: str) -> str:
  """The row of `name`'s encoder at initialisation (same seed, same way of
  forming groups): the baseline its training is measured against."""
  return f"{name} (untrained)"


GAIN_SUFFIX = " (trained − untrained)"


def gain_name(name: str) -> str:
  """The row of what training adds to `name`: trained − untrained, seed by
  seed (training_gains)."""
  return name + GAIN_SUFFIX


# The study's comparisons: (question, a, b), difference = a - b.
COMPARISONS = tuple(
    ("the note's four", a, b) for i, a in enumerate(NOTE_FOUR)
    for b in NOTE_FOUR[i + 1:]) + (
        ("pooling", "gi_attention", "gi_centroid"),
        ("pooling", "gi_soft_medoid", "gi_centroid"),
        ("pooling", "gi_attention", "gi_soft_medoid"),
        ("training groups", "gi_centroid_charsets", "gi_centroid"),
        ("training groups", "gg_centroid_charsets", "gg_centroid"),
        ("candidates", "gi_centroid_prototypes", "gi_centroid"),
        ("candidates", "gg_centroid_prototypes", "gg_centroid"),
        # item_item trains on random affine views, the note's four on the
        # images: is its lead the objective's or the augmentation's?
        ("augmentation", "gi_centroid_augmented", "gi_centroid"),
        ("augmentation", "gi_centroid_augmented", "item_item"),
    ) + tuple(("training", n, untrained_name(n)) for n in CONFIGS) + tuple(
        # Do the group losses beat the note's item-level baseline (eq. 1)?
        # Centroids only: item_item's groups are evaluated as centroids, and
        # a medoid's ratio and retrieval differ by pooling before training.
        ("item-level baseline", n, "item_item")
        for n in ("gg_centroid", "gi_centroid")) + tuple(
        # The related systems against the default configuration.
        ("related systems", n, "gi_centroid")
        for n in ("triplet", "group_loss", "smog", "groupface")) + (
        # A pooling gap in the group metrics exists before any training;
        # is it there at initialisation, and does training widen or close it?
        ("pooling before training", untrained_name("gi_centroid"),
         untrained_name("gi_medoid")),
        ("pooling before training", untrained_name("gi_centroid"),
         untrained_name("gi_soft_medoid")),
        ("training gain by pooling", gain_name("gi_centroid"),
         gain_name("gi_medoid")),
        ("training gain by pooling", gain_name("gg_centroid"),
         gain_name("gg_medoid")),
        ("training gain by pooling", gain_name("gi_centroid"),
         gain_name("gi_soft_medoid")))
# The metrics that evaluate groups by the configuration's pooling; few-shot
# and Lake's runs build centroid prototypes whatever the pooling, so their
# untrained values are the same and their gains repeat the trained rows.
GROUP_METRICS = ("unseen ratio (rotation)", "unseen dc recall@1, 5 drawings",
                 "unseen dc recall@1, all drawings",
                 "held-out ratio (validation)",
                 "held-out dc recall@1, all drawings (validation)")
QUESTION_METRICS = {"pooling before training": GROUP_METRICS,
                    "training gain by pooling": GROUP_METRICS}


@dataclasses.dataclass(frozen=True)
class Settings:
  """The study's own setting, the same for every run (part of each run's
  config, so a checkpoint of other settings is refused, not resumed)."""
  steps: int = 2000
  eval_every: int = 250  # the note's four only; 0: no convergence curves


def default_config(name: str):
  import importlib  # pylint: disable=g-import-not-at-top
  return importlib.import_module(f"configs.{name}").get_config()


def run_config(name: str, seed: int, settings: Settings,
               make_config: Callable = default_config):
  """The config of one study run."""
  config = make_config(name)
  with config.unlocked():
    config.seed = seed
    config.train.num_steps = settings.steps
    if name in NOTE_FOUR and settings.eval_every:
      config.eval.every = settings.eval_every
      config.eval.during_training = CONVERGENCE_EVALS
  return config


def workdir(runs: str, name: str, seed: int) -> str:
  return os.path.join(runs, name, f"seed{seed}")


def finished(wd: str, steps: int) -> bool:
  path = os.path.join(wd, "metrics.json")
  if not os.path.exists(path):
    return False
  with open(path) as f:
    return json.load(f).get("step") == steps


def train_and_evaluate(config, wd: str) -> None:
  from grouprep import evaluate, train  # pylint: disable=g-import-not-at-top
  train.train(config, wd)
  evaluate.evaluate(config, wd)


def run(names: Sequence[str], seeds: Sequence[int], runs: str,
        settings: Settings, make_config: Callable = default_config,
        runner: Callable = train_and_evaluate) -> List[str]:
  """Trains and evaluates every unfinished (name, seed); returns the runs
  that failed ("name seedS: error"). The note's four first, seed by seed, so
  their comparison has n seeds as early as possible; then every other
  configuration name by name (OTHERS, VARIANTS, then any other name), so
  each of its rows reaches n seeds before the next starts: a study stopped
  part way leaves complete rows, not rows at n < 3 that nothing can claim."""
  order = [(n, s) for s in seeds for n in NOTE_FOUR if n in names]
  rest = [n for n in OTHERS + VARIANTS if n in names]
  rest += [n for n in names if n not in CONFIGS]
  order += [(n, s) for n in rest for s in seeds]
  failed = []
  for k, (name, seed) in enumerate(order, 1):
    wd = workdir(runs, name, seed)
    tag = f"[{k}/{len(order)}] {name} seed {seed}"
    if finished(wd, settings.steps):
      print(f"{tag}: finished, skipped ({wd})", flush=True)
      continue
    print(f"{tag}: training to step {settings.steps} in {wd}", flush=True)
    t = time.time()
    try:
      runner(run_config(name, seed, settings, make_config), wd)
    except Exception as e:  # pylint: disable=broad-except
      traceback.print_exc()
      failed.append(f"{name} seed {seed}: {type(e).__name__}: {e}")
      print(f"{tag}: FAILED ({failed[-1]}); going on", flush=True)
      continue
    print(f"{tag}: done in {time.time() - t:.0f} s", flush=True)
  return failed


# --------------------------------------------------------------------------
# Aggregation: pure functions of the run directories.
# --------------------------------------------------------------------------
def _get(d: Dict, dotted: str) -> Optional[float]:
  """report._get, a size-curve cell's mean for the cell, None if absent."""
  from grouprep import report  # pylint: disable=g-import-not-at-top
  d = report._get(d, dotted)  # pylint: disable=protected-access
  if isinstance(d, dict):
    d = d.get("mean")
  return None if d is None else float(d)


def _numeric_leaves(d, prefix="") -> Dict[str, float]:
  out = {}
  for k, v in d.items():
    key = f"{prefix}{k}"
    if isinstance(v, dict):
      out.update(_numeric_leaves(v, key + "."))
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
      out[key] = float(v)
  return out


def load_results(runs: str, names: Sequence[str], seeds: Sequence[int],
                 steps: int) -> Dict[str, Dict[int, Dict]]:
  """{name: {seed: metrics.json + its train_seconds}} of the finished runs."""
  from grouprep import report  # pylint: disable=g-import-not-at-top
  out = {}
  for name in names:
    for seed in seeds:
      wd = workdir(runs, name, seed)
      if finished(wd, steps):
        with open(os.path.join(wd, "metrics.json")) as f:
          result = json.load(f)
        result["train_seconds"] = report.train_seconds(wd)
        result["paced_train_seconds"] = paced_train_seconds(wd)
        out.setdefault(name, {})[seed] = result
  return out


def paced_train_seconds(wd: str) -> Optional[float]:
  """The run's median seconds per step (between consecutive training log
  rows) times its steps: the training time with pauses (a stopped process,
  the cores lent to a benchmark) and brief contention left out, which the
  log's wall_s keeps in."""
  from grouprep import logs  # pylint: disable=g-import-not-at-top
  rows = sorted((s, r["wall_s"]) for s, r in logs.read(wd).items()
                if "wall_s" in r)
  pace = [(w1 - w0) / (s1 - s0) for (s0, w0), (s1, w1) in zip(rows, rows[1:])
          if s1 > s0 and w1 >= w0]
  return float(np.median(pace) * rows[-1][0]) if pace else None


def mean_sd(values: Sequence[float]) -> Dict:
  x = np.asarray(values, np.float64)
  return {"mean": float(x.mean()),
          "sd": float(x.std(ddof=1)) if len(x) > 1 else float("nan"),
          "n": int(len(x))}


def paired_difference(a: Sequence[float], b: Sequence[float]) -> Dict:
  """Mean of a - b over paired seeds with its 95% t-interval (n - 1 degrees
  of freedom). testable: n >= MIN_SEEDS (SPEC §5); measured: testable and
  the interval excludes 0."""
  from grouprep import metrics  # pylint: disable=g-import-not-at-top
  d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
  t = metrics.t_interval(d)
  low, high = t["mean"] - t["ci95"], t["mean"] + t["ci95"]
  testable = t["n"] >= MIN_SEEDS
  return {"mean": t["mean"], "n": t["n"], "low": low, "high": high,
          "testable": testable,
          "measured": bool(testable and (low > 0 or high < 0))}


def _fmt(x: float, digits: int = 3) -> str:
  return "–" if x is None or (isinstance(x, float) and math.isnan(x)) \
      else f"{x:.{digits}f}"


def _cell(stat: Dict, digits: int) -> str:
  if stat is None:
    return "–"
  if stat["n"] < 2:
    return f"{_fmt(stat['mean'], digits)} (n=1)"
  return f"{_fmt(stat['mean'], digits)} ± {_fmt(stat['sd'], digits)}"


def summary_tables(results: Dict[str, Dict[int, Dict]], names: Sequence[str],
                   settings: Settings, curves: Optional[Dict] = None
                   ) -> Dict[str, str]:
  """{"summary.md": ..., "study_per_seed.md": ..., "study_paired.md": ...,
  "study_metrics.json": ...}: the study's text outputs, a pure function of
  the finished runs' metrics.json (and of the convergence curves, for
  summary.md's convergence section)."""
  from grouprep import report  # pylint: disable=g-import-not-at-top
  cols = [(label, paths, fmt) for label, paths, fmt in report.KEY_METRICS
          if not (isinstance(paths, str) and paths.startswith("/"))]
  cols.insert(len(cols) - 4, report.THM1_HOLDS)
  cols.append(("train s (paced)", "/paced_train_seconds", "{:.0f}"))
  digits = lambda fmt: int(fmt[3]) if fmt.startswith("{:.") else 3

  def value(result, paths):
    v, _ = report._lookup(result, paths)  # pylint: disable=protected-access
    if isinstance(v, dict):
      v = v.get("mean")
    return None if v is None else float(v)

  present = [n for n in names if n in results]
  head = ["config", "n", "space"] + [c for c, _, _ in cols]
  summary = [
      "# grouprep: the study", "",
      f"Every configuration trained for {settings.steps} steps per seed "
      "(`python -m grouprep.study`); mean ± sd over seeds (n seeds), "
      "unseen alphabets unless marked, each in the space its method trains. "
      "Paired differences: study_paired.md; each seed: study_per_seed.md; "
      "every metric's mean, sd and n: study_metrics.json. *train s "
      "(paced)*: the run's median seconds per step between log rows × its "
      "steps (pauses, start-up and compilation left out; evaluation "
      "during training excluded).", "",
      "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
  per_seed = ["# grouprep: the study, seed by seed", "",
              "| " + " | ".join(["config", "seed"] + head[3:]) + " |",
              "|" + "---|" * (len(head) - 1)]
  def table_row(name, by_seed):
    cells = [name, str(len(by_seed)),
             next(iter(by_seed.values())).get("embedding_space", "?")]
    for _, paths, fmt in cols:
      vals = [v for v in (value(r, paths) for r in by_seed.values())
              if v is not None]
      cells.append(_cell(mean_sd(vals), digits(fmt)) if vals else "–")
    return "| " + " | ".join(cells) + " |"

  # Each configuration's encoder at initialisation, shaped like its runs.
  untrained = {untrained_name(n): {s: report.untrained_row(r)
                                   for s, r in results[n].items()
                                   if "untrained" in r} for n in present}
  untrained = {n: by_seed for n, by_seed in untrained.items() if by_seed}
  aggregate = {}
  for name in present:
    by_seed = results[name]
    summary.append(table_row(name, by_seed))
    for seed, r in sorted(by_seed.items()):
      per_seed.append("| " + " | ".join(
          [name, str(seed)] + [_fmt(value(r, p), digits(f))
                               for _, p, f in cols]) + " |")
    leaves = [_numeric_leaves(r) for r in by_seed.values()]
    keys = sorted(set().union(*leaves))
    aggregate[name] = {k: mean_sd([l[k] for l in leaves if k in l])
                       for k in keys}
  paired = [
      "# grouprep: paired comparisons", "",
      "Difference a − b of each headline metric over the seeds both runs "
      "have, with its 95% t-interval (n − 1 degrees of freedom). A "
      "difference is *measured* only where the interval excludes 0; "
      "otherwise there is no measurable difference at this n. Lake error: "
      "lower is better; every other metric: higher is better.", "",
      "| question | a | b | metric | a: mean ± sd | b: mean ± sd | a − b "
      "[95% CI] | n | measured |", "|---|---|---|---|---|---|---|---|---|"]
  summary += [table_row(n, by_seed) for n, by_seed in untrained.items()] + [
      "", "*(untrained)*: the same encoder at initialisation (its seed), "
      "evaluated as the configuration evaluates (its pooling, its groups)."]
  rows = paired_rows(dict(results, **untrained, **training_gains(results)))
  for r in rows:
    d = r["diff"]
    paired.append(
        f"| {r['question']} | {r['a']} | {r['b']} | {r['metric']} | "
        f"{_cell(mean_sd(r['xa']), 3)} | {_cell(mean_sd(r['xb']), 3)} | "
        f"{_ci(d)} | {d['n']} | {'yes' if d['measured'] else 'no'} |")
  summary += [""] + note_question(results) + [""] + findings(rows)
  if curves:
    summary += [""] + convergence_section(curves, settings)
  return {"summary.md": "\n".join(summary) + "\n",
          "study_per_seed.md": "\n".join(per_seed) + "\n",
          "study_paired.md": "\n".join(paired) + "\n",
          "study_metrics.json": json.dumps(aggregate, indent=1,
                                           sort_keys=True) + "\n"}


def training_gains(results: Dict[str, Dict[int, Dict]]
                   ) -> Dict[str, Dict[int, Dict]]:
  """{gain_name(n): {seed: {"eval": trained − untrained}}} on the headline
  metrics, seed by seed as config_points pairs them."""
  gains = {}
  for _, path, _ in HEADLINE:
    for name, p in config_points(results, path).items():
      for seed, trained, untrained in zip(p["seeds"], p["values"],
                                          p["untrained"]):
        by_seed = gains.setdefault(gain_name(name), {})
        _set(by_seed.setdefault(seed, {"eval": {}})["eval"], path,
             trained - untrained)
  return gains


def _set(d: Dict, dotted: str, value: float) -> None:
  *parents, leaf = dotted.split(".")
  for key in parents:
    d = d.setdefault(key, {})
  d[leaf] = value


def paired_rows(results: Dict[str, Dict[int, Dict]]) -> List[Dict]:
  """Every (comparison, headline metric) both runs have: {"question", "a",
  "b", "metric", "lower_better", "xa", "xb" (per seed, paired), "diff"
  (paired_difference(xa, xb))}; a question of QUESTION_METRICS only on its
  metrics."""
  rows = []
  for question, a, b in COMPARISONS:
    if a not in results or b not in results:
      continue
    seeds = sorted(set(results[a]) & set(results[b]))
    metrics = QUESTION_METRICS.get(question)
    for label, path, lower_better in HEADLINE:
      if metrics is not None and label not in metrics:
        continue
      xa = [_get(results[a][s]["eval"], path) for s in seeds]
      xb = [_get(results[b][s]["eval"], path) for s in seeds]
      keep = [i for i in range(len(seeds)) if _finite(xa[i], xb[i])]
      if not keep:
        continue
      xa, xb = [xa[i] for i in keep], [xb[i] for i in keep]
      rows.append(dict(question=question, a=a, b=b, metric=label,
                       lower_better=lower_better, xa=xa, xb=xb,
                       diff=paired_difference(xa, xb)))
  return rows


def _finite(*values) -> bool:
  return all(v is not None and math.isfinite(v) for v in values)


def _ci(d: Dict) -> str:
  """A paired difference as "+mean [low, high]"."""
  return f"{d['mean']:+.3f} [{_fmt(d['low'])}, {_fmt(d['high'])}]"


def _interval(d: Dict) -> str:
  if d["n"] < 2:
    return f"{d['mean']:+.3f}, n=1: no interval"
  text = f"{_ci(d)}, n={d['n']}"
  return text if d["testable"] else text + f" < {MIN_SEEDS}: untested"


def _mean_sd_n(stat: Dict, digits: int = 3) -> str:
  sd = "" if stat["n"] < 2 else f" ± {_fmt(stat['sd'], digits)}"
  return f"{_fmt(stat['mean'], digits)}{sd} (n={stat['n']})"


def note_question(results: Dict[str, Dict[int, Dict]]) -> List[str]:
  """The note's question, metric by metric, on the seeds the four share:
  which is best by mean, and whether it is measurably better than each of
  the others (the paired 95% t-interval of best − other excludes 0, with
  n >= MIN_SEEDS)."""
  four = [n for n in NOTE_FOUR if n in results]
  lines = ["## The note's question: which of the four builds the better "
           "groups?", ""]
  if len(four) < 2:
    return lines + ["Fewer than two of the note's four configurations have "
                    "finished runs."]
  for label, path, lower_better in HEADLINE:
    vals = {n: {s: _get(r["eval"], path) for s, r in results[n].items()}
            for n in four}
    vals = {n: {s: v for s, v in sv.items() if _finite(v)}
            for n, sv in vals.items()}
    vals = {n: sv for n, sv in vals.items() if sv}
    shared = sorted(set.intersection(*(set(sv) for sv in vals.values()))) \
        if len(vals) >= 2 else []
    if not shared:
      continue
    sign = -1.0 if lower_better else 1.0
    at = {n: [vals[n][s] for s in shared] for n in vals}
    best = max(at, key=lambda n: sign * float(np.mean(at[n])))
    beaten, not_beaten, untested = [], [], []
    for other in at:
      if other == best:
        continue
      d = paired_difference(at[best], at[other])
      bucket = (untested if not d["testable"] else
                beaten if d["measured"] else not_beaten)
      bucket.append(f"{other} ({_interval(d)})")
    parts = []
    if beaten:
      parts.append("measurably better than " + "; ".join(beaten))
    if not_beaten:
      parts.append("no measurable difference from " + "; ".join(not_beaten))
    if untested:
      parts.append(f"untested (fewer than {MIN_SEEDS} shared seeds) against "
                   + "; ".join(untested))
    lines.append(f"- **{label}** ({'lower' if lower_better else 'higher'} is "
                 f"better), seeds {','.join(map(str, shared))}: best mean "
                 f"{best} {_mean_sd_n(mean_sd(at[best]))}; "
                 + "; ".join(parts) + ".")
  return lines + ["", "Intervals: best − other, paired over seeds, 95% "
                  "t-interval with n − 1 degrees of freedom; a difference is "
                  f"tested only with n ≥ {MIN_SEEDS} seeds (SPEC §5)."]


def _winner(name: str) -> str:
  """How a findings line names the better side of a measured difference."""
  if name.endswith(GAIN_SUFFIX):
    return f"training adds more to {name[:-len(GAIN_SUFFIX)]}"
  return f"{name} better"


def findings(rows: Sequence[Dict]) -> List[str]:
  """One line per compared pair: the measured differences with their
  intervals, the metrics with no measurable difference, and the untested
  ones (fewer than MIN_SEEDS paired seeds)."""
  lines = ["## Findings, from study_paired.md", ""]
  if not rows:
    return lines + ["No comparison has runs on both sides yet."]
  pairs = []
  for r in rows:
    key = (r["question"], r["a"], r["b"])
    if key not in pairs:
      pairs.append(key)
  for question, a, b in pairs:
    mine = [r for r in rows if (r["question"], r["a"], r["b"]) ==
            (question, a, b)]
    parts = []
    for r in mine:
      if r["diff"]["measured"]:
        better = (r["diff"]["mean"] < 0) == r["lower_better"]
        parts.append(f"{r['metric']} {_interval(r['diff'])} "
                     f"({_winner(a if better else b)})")
    same = [r["metric"] for r in mine
            if r["diff"]["testable"] and not r["diff"]["measured"]]
    untested = [r["metric"] for r in mine if not r["diff"]["testable"]]
    if same:
      parts.append("no measurable difference in " + ", ".join(same))
    if untested:
      n = min(r["diff"]["n"] for r in mine if not r["diff"]["testable"])
      parts.append(f"untested (n={n} < {MIN_SEEDS} seeds): "
                   + ", ".join(untested))
    lines.append(f"- {question}, {a} − {b}: " + "; ".join(parts) + ".")
  k = sum(r["diff"]["testable"] for r in rows)
  lines += ["", f"{k} tested intervals, each at 95%: where the true "
            f"difference is 0, about 1 in 20 excludes 0 by chance (~{k / 20:.1f}"
            " here), so a lone measured row near 0 is weak evidence."]
  return lines


def convergence_changes(curves: Dict, window: int, end: int) -> List[Dict]:
  """For each (metric, config) curve: its values at step `end` and at
  `end - window`, and the paired change between them over the seeds that
  logged both ({"metric", "name", "start", "end", "at_start", "at_end",
  "diff"})."""
  out = []
  start = end - window
  for metric, _ in CONVERGENCE_METRICS:
    by_name = curves.get(metric, {})
    order = [n for n in CONFIGS if n in by_name] + sorted(
        n for n in by_name if n not in CONFIGS)
    for name in order:
      by_step = by_name[name]
      seeds = sorted(set(by_step.get(start, {})) & set(by_step.get(end, {})))
      if not seeds:
        continue
      a = [by_step[end][s] for s in seeds]
      b = [by_step[start][s] for s in seeds]
      out.append(dict(metric=metric, name=name, start=start, end=end,
                      at_start=mean_sd(b), at_end=mean_sd(a),
                      diff=paired_difference(a, b)))
  return out


def convergence_section(curves: Dict, settings: Settings) -> List[str]:
  """Why the study's step count: how much each validation curve still moves
  over its last quarter."""
  window = settings.steps // 4  # the last quarter, on the logged steps
  if settings.eval_every:
    window = max(settings.eval_every,
                 window // settings.eval_every * settings.eval_every)
  changes = convergence_changes(curves, window, settings.steps)
  titles = dict(CONVERGENCE_METRICS)
  lines = [f"## Convergence (validation split: held-out characters), "
           f"steps {settings.steps - window} → {settings.steps}", "",
           f"Every configuration trains {settings.steps} steps. Change over "
           "the last quarter of training, paired over seeds (95% "
           f"t-interval, tested with n ≥ {MIN_SEEDS}); the curves: "
           "convergence_*.png.", "",
           "| metric | config | at start | at end | change [95% CI] | n | "
           "verdict |", "|---|---|---|---|---|---|---|"]
  for c in changes:
    d = c["diff"]
    verdict = (f"untested (n < {MIN_SEEDS})" if not d["testable"] else
               "still rising" if d["measured"] and d["mean"] > 0 else
               "falling" if d["measured"] else "no measurable change")
    lines.append(
        f"| {titles[c['metric']]} | {c['name']} | {_cell(c['at_start'], 3)} | "
        f"{_cell(c['at_end'], 3)} | {_ci(d)} | {d['n']} | {verdict} |")
  tested = [c for c in changes if c["diff"]["testable"]]
  moving = [f"{titles[c['metric']]} of {c['name']} "
            f"({'rising' if c['diff']['mean'] > 0 else 'falling'})"
            for c in tested if c["diff"]["measured"]]
  lines += ["", f"{len(tested)} of {len(changes)} curves tested; "
            + (f"{len(moving)} still change measurably: " + "; ".join(moving)
               if moving else "none changes measurably")
            + ". A comparison of a still-changing metric is a comparison at "
            f"{settings.steps} steps, not at convergence."]
  return lines


def convergence_curves(runs: str, names: Sequence[str], seeds: Sequence[int],
                       steps: Optional[int] = None
                       ) -> Dict[str, Dict[str, Dict[int, Dict[int, float]]]]:
  """{metric: {name: {step: {seed: value}}}} from eval_log.jsonl; with
  `steps`, of the runs finished at that step count only (as load_results)."""
  from grouprep import logs  # pylint: disable=g-import-not-at-top
  out = {m: {} for m, _ in CONVERGENCE_METRICS}
  for name in names:
    for seed in seeds:
      wd = workdir(runs, name, seed)
      if steps is not None and not finished(wd, steps):
        continue
      for step, row in logs.read(wd, "eval").items():
        for metric, _ in CONVERGENCE_METRICS:
          if metric in row and _finite(float(row[metric])):
            out[metric].setdefault(name, {}).setdefault(step, {})[seed] = \
                float(row[metric])
  return out


def plot_convergence(curves, out_dir: str) -> List[str]:
  """One PNG per metric: mean over seeds per configuration, band = sd."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  written = []
  for metric, title in CONVERGENCE_METRICS:
    by_name = curves.get(metric, {})
    if not by_name:
      continue
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, by_step in sorted(by_name.items()):
      steps = sorted(by_step)
      values = [list(by_step[s].values()) for s in steps]
      mean = np.array([np.mean(v) for v in values])
      sd = np.array([np.std(v, ddof=1) if len(v) > 1 else 0.0
                     for v in values])
      n = min(len(v) for v in values)
      line, = ax.plot(steps, mean, marker="o", ms=3, label=f"{name} (n={n})")
      ax.fill_between(steps, mean - sd, mean + sd, color=line.get_color(),
                      alpha=0.2)
    ax.set_xlabel("training step")
    ax.set_ylabel(title)
    ax.set_title(f"{title}, held-out characters (validation)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    name = "convergence_" + metric.split("/")[-1] + ".png"
    fig.savefig(os.path.join(out_dir, name), dpi=110)
    plt.close(fig)
    written.append(name)
  return written


def config_points(results: Dict[str, Dict[int, Dict]], path: str
                  ) -> Dict[str, Dict]:
  """{name: {"seeds", "values", "untrained" (per seed), "mean", "sd"}} of
  one headline metric (HEADLINE path), over the seeds where both the trained
  and the untrained value are finite; sd is None below 2 seeds."""
  out = {}
  for name, by_seed in results.items():
    pairs = [(seed, _get(r["eval"], path),
              _get(r.get("untrained", {}), path))
             for seed, r in sorted(by_seed.items())]
    pairs = [p for p in pairs if _finite(p[1], p[2])]
    if pairs:
      seeds, vals, base = map(list, zip(*pairs))
      stat = mean_sd(vals)
      out[name] = dict(seeds=seeds, values=vals, untrained=base,
                       mean=stat["mean"],
                       sd=stat["sd"] if stat["n"] > 1 else None)
  return out


def plot_configs(results: Dict[str, Dict[int, Dict]], names: Sequence[str],
                 out_dir: str) -> List[str]:
  """study_configs.png: a panel per headline metric, a row per
  configuration; each seed a dot, mean ± sd a bar (n >= 2), the same
  seeds' untrained encoder (mean) a hollow diamond: the baseline training
  must beat. n per panel, from config_points."""
  present = [n for n in names if n in results]
  if not present:
    return []
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  cols = 3
  rows = -(-len(HEADLINE) // cols)
  fig, axes = plt.subplots(rows, cols, sharey=True, squeeze=False,
                           figsize=(4.2 * cols, 0.9 + 0.3 * len(present) * rows))
  ys = np.arange(len(present))[::-1]
  for ax, (label, path, lower_better) in zip(axes.flat, HEADLINE):
    points = config_points({n: results[n] for n in present}, path)
    for y, name in zip(ys, present):
      if name not in points:
        continue
      p = points[name]
      ax.plot(np.mean(p["untrained"]), y, "D", mfc="none", color="0.5", ms=6)
      ax.plot(p["values"], [y] * len(p["values"]), "o", color="C0", ms=3,
              alpha=0.6)
      if p["sd"] is not None:
        ax.errorbar(p["mean"], y, xerr=p["sd"], fmt="|", color="C0", ms=12,
                    capsize=3)
      ax.annotate(f"n={len(p['values'])}", (1.0, y),
                  xycoords=("axes fraction", "data"), xytext=(2, 0),
                  textcoords="offset points", va="center", fontsize=6)
    ax.set_title(label + (" (lower is better)" if lower_better else ""),
                 fontsize=9)
    ax.grid(alpha=0.3, axis="x")
  for ax in axes.flat[len(HEADLINE):]:
    ax.axis("off")
  for ax in axes[:, 0]:
    ax.set_yticks(ys)
    ax.set_yticklabels(present, fontsize=8)
  fig.suptitle("The study: each seed (dot), mean ± sd (bar), the same seeds' "
               "untrained encoder (hollow diamond)", fontsize=10)
  fig.tight_layout()
  fig.savefig(os.path.join(out_dir, "study_configs.png"), dpi=110)
  plt.close(fig)
  return ["study_configs.png"]


def write_outputs(runs: str, out_dir: str, names: Sequence[str],
                  seeds: Sequence[int], settings: Settings) -> List[str]:
  os.makedirs(out_dir, exist_ok=True)
  results = load_results(runs, names, seeds, settings.steps)
  curves = convergence_curves(runs, names, seeds, settings.steps)
  written = []
  for fname, text in summary_tables(results, names, settings,
                                    curves).items():
    path = os.path.join(out_dir, fname)
    with open(path + ".tmp", "w") as f:
      f.write(text)
    os.replace(path + ".tmp", path)
    written.append(fname)
  return (written + plot_convergence(curves, out_dir)
          + plot_configs(results, names, out_dir))


def main(argv=None) -> int:
  p = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
  p.add_argument("--configs", default=",".join(CONFIGS),
                 help="comma-separated config names (configs/NAME.py)")
  p.add_argument("--steps", type=int, default=Settings.steps)
  p.add_argument("--eval-every", type=int, default=Settings.eval_every)
  p.add_argument("--runs", default=os.path.join("runs", "study"))
  p.add_argument("--out", default="results")
  p.add_argument("--summary-only", action="store_true",
                 help="write the tables and plots from the finished runs")
  args = p.parse_args(argv)
  seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
  names = [n.strip() for n in args.configs.split(",") if n.strip()]
  unknown = [n for n in names if not os.path.exists(
      os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
          __file__))), "configs", f"{n}.py"))]
  if unknown:
    p.error(f"unknown config(s) {unknown}: no configs/NAME.py")
  settings = Settings(args.steps, args.eval_every)
  failed = []
  if not args.summary_only:
    from grouprep import main as main_lib  # pylint: disable=g-import-not-at-top
    from grouprep import platform  # pylint: disable=g-import-not-at-top
    platform.configure_cpu_devices(0)
    main_lib.configure_compilation_cache()
    failed = run(names, seeds, args.runs, settings)
  written = write_outputs(args.runs, args.out, names, seeds, settings)
  print(f"Wrote {', '.join(written)} in {args.out}.", flush=True)
  if failed:
    print("Failed runs (rerun the same command to retry):\n  " +
          "\n  ".join(failed), file=sys.stderr)
    return 1
  return 0


if __name__ == "__main__":
  sys.exit(main())
