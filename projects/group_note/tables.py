"""The study's text outputs, pure functions of the finished runs: the summary
(mean ± sd and n per configuration and its untrained encoder), every seed's
row, the paired differences, the note's question metric by metric, one
finding per compared pair and the convergence table.

summary_tables(results, names, settings, curves) -> {"summary.md": ...,
"study_per_seed.md": ..., "study_paired.md": ..., "study_metrics.json": ...};
results = {name: {seed: metrics.json}} (grouprep.sweep.load_results).
A difference is tested only over >= stats.MIN_SEEDS paired seeds and claimed
only where its 95% t-interval excludes 0 (grouprep.stats).
"""
import json
import math
from typing import Dict, List, Optional, Sequence

import numpy as np

from grouprep import logs
from grouprep import report
from grouprep import sweep
from grouprep.stats import MIN_SEEDS, mean_sd, paired_difference
from projects.group_note.comparisons import (
    COMPARISONS, CONFIGS, CONVERGENCE_METRICS, GAIN_SUFFIX, HEADLINE, NOTE_FOUR,
    QUESTION_METRICS, gain_name, untrained_name)


def _get(d: Dict, dotted: str) -> Optional[float]:
  """The value at a dotted path (a size-curve cell: its mean), None if
  absent."""
  d = report.get_dotted(d, dotted)
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
                   settings, curves: Optional[Dict] = None
                   ) -> Dict[str, str]:
  """{"summary.md": ..., "study_per_seed.md": ..., "study_paired.md": ...,
  "study_metrics.json": ...}: the study's text outputs, a pure function of
  the finished runs' metrics.json (and of the convergence curves, for
  summary.md's convergence section). settings: the study's Settings (steps,
  eval_every)."""
  cols = [(label, paths, fmt) for label, paths, fmt in report.KEY_METRICS
          if not (isinstance(paths, str) and paths.startswith("/"))]
  cols.insert(len(cols) - 4, report.THM1_HOLDS)
  cols.append(("train s (paced)", "/paced_train_seconds", "{:.0f}"))
  digits = lambda fmt: int(fmt[3]) if fmt.startswith("{:.") else 3

  def value(result, paths):
    v, _ = report.lookup(result, paths)
    if isinstance(v, dict):
      v = v.get("mean")
    return None if v is None else float(v)

  present = [n for n in names if n in results]
  head = ["config", "n", "space"] + [c for c, _, _ in cols]
  summary = [
      "# grouprep: the study", "",
      f"Every configuration trained for {settings.steps} steps per seed "
      "(`python -m projects.group_note.study`); mean ± sd over seeds (n seeds), "
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


def convergence_section(curves: Dict, settings) -> List[str]:
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
  out = {m: {} for m, _ in CONVERGENCE_METRICS}
  for name in names:
    for seed in seeds:
      wd = sweep.workdir(runs, name, seed)
      if steps is not None and not sweep.finished(wd, steps):
        continue
      for step, row in logs.read(wd, "eval").items():
        for metric, _ in CONVERGENCE_METRICS:
          if metric in row and _finite(float(row[metric])):
            out[metric].setdefault(name, {}).setdefault(step, {})[seed] = \
                float(row[metric])
  return out


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
