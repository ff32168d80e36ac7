"""The study's text outputs, pure functions of the finished runs: the summary
(mean ± sd and n per configuration and its untrained encoder), every seed's
row, the paired differences, the note's question metric by metric, one
finding per compared pair and the convergence table.

summary_tables(results, names, settings, curves) -> {"summary.md": ...,
"study_per_seed.md": ..., "study_paired.md": ..., "study_metrics.json": ...};
results = {name: {seed: metrics.json}} (grouprep.sweep.load_results).
A difference is tested only over >= stats.MIN_SEEDS paired seeds and claimed
(*measured*) only where its Benjamini-Hochberg q-value over its family is
below Q_LEVEL (grouprep.stats.bh_qvalues of the family's two-sided t-test
p-values; the families: comparisons.family, what training adds and the
comparisons between configurations).
"""
import json
import math
from typing import Dict, List, Optional, Sequence

import numpy as np

from grouprep import logs
from grouprep import report
from grouprep import sweep
from grouprep.stats import MIN_SEEDS, bh_qvalues, mean_sd, paired_difference
from projects.group_note.comparisons import (
    COMPARISONS, CONFIGS, CONFIGS_FAMILY, CONVERGENCE_METRICS, GAIN_SUFFIX,
    CEILING_METRIC, HEADLINE, NEAR_CEILING, NOTE_FOUR, PATH, QUESTION_METRICS,
    RELATED_AGAINST, TRAINING_FAMILY, TRAINING_QUESTIONS, family, gain_name,
    untrained_name)


# The false discovery rate the paired table's claims are held to.
Q_LEVEL = 0.05


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


def varied_fields(swept: Sequence[Optional[Sequence[str]]]
                  ) -> Optional[set]:
  """The dotted fields some tuned configuration's sweep varied (tune.swept,
  one list per configuration), None where any configuration's are not
  recorded (None) or none varied anything: then nothing is said of them."""
  if not swept or any(fields is None for fields in swept):
    return None
  return set().union(*map(set, swept)) or None


def tuning_sentence(tuning: Optional[Dict[str, Dict]], names: Sequence[str],
                    steps: int) -> str:
  """Which of `names` were trained at tuned settings, and at what length
  their sweeps ran; untuned, that every ranking holds for the defaults."""
  tuned = [n for n in names if n in (tuning or {})]
  if not tuned:
    return ("Tuning: none; every configuration at its configs/NAME.py "
            "settings, so every ranking holds for those settings only.")
  swept = sorted({int(tuning[n]["steps"]) for n in tuned
                  if tuning[n].get("steps")})
  length = (f"; the sweeps ran {'/'.join(map(str, swept))} steps a run"
            + (f" against the study's {steps}, so a setting chosen there "
               "may not be the best at this length"
               if any(x != steps for x in swept) else "")
            if swept else "")
  which = ("every configuration" if len(tuned) == len(names) else
           f"{len(tuned)} of {len(names)} configurations ({', '.join(tuned)}; "
           "the rest at their configs/NAME.py settings)")
  # What the sweeps varied, where chosen.json records it (tune.swept).
  what = ("the learning rate alone, each method's key parameter at its "
          "configs/NAME.py default" if varied_fields(
              [tuning[n].get("swept") for n in tuned])
          == {"train.learning_rate"} else "")
  return (f"Tuning: {which} at the settings its own validation sweep chose, "
          f"the same budget for each (results/tuning/"
          f"{'; it varied ' + what if what else ''}){length}.")


def summary_tables(results: Dict[str, Dict[int, Dict]], names: Sequence[str],
                   settings, curves: Optional[Dict] = None,
                   baselines: Optional[Dict[str, Dict[int, Dict]]] = None,
                   tuning: Optional[Dict[str, Dict]] = None,
                   missing: Optional[Dict[str, Dict[int, str]]] = None,
                   rows: Optional[List[Dict]] = None) -> Dict[str, str]:
  """{"summary.md": ..., "study_per_seed.md": ..., "study_paired.md": ...,
  "study_metrics.json": ...}: the study's text outputs, a pure function of
  the finished runs' metrics.json (and of the convergence curves, for
  summary.md's convergence section). settings: the study's Settings (steps,
  eval_every). baselines: {row name: {seed: metrics}} of encoders that are
  not trained (raw pixels, projects.group_note.pixels): a row each in
  summary.md and study_metrics.json, beside the untrained encoders.
  tuning: {name: {"settings", "steps"}} of the configurations trained at
  the settings their validation sweep chose (summary.md says which, and
  how long the sweep's runs were). missing: {name: {seed: why}} of the
  runs not in results (grouprep.sweep.missing_runs), named under the table
  so that an n below the seeds asked for says why. rows: study_rows(results)
  where the caller has them already."""
  baselines = {n: b for n, b in (baselines or {}).items() if b}
  cols = [(label, paths, fmt) for label, paths, fmt in report.KEY_METRICS
          if not (isinstance(paths, str) and paths.startswith("/"))]
  # Theorem 1's "holds" fraction only where some run's is below 1, as
  # report.metrics_table shows it: the bound is loose by design.
  holds = [report.lookup(r, report.THM1_HOLDS[1])[0]
           for by_seed in list(results.values()) + list(baselines.values())
           for r in by_seed.values()]
  show_holds = any(h is not None and h < 1.0 for h in holds)
  if show_holds:
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
      "during training excluded). *Thm1 holds* (the fraction of "
      "same-label pairs within Theorem 1's bound) is a column only where "
      "some run's is below 1" + (
          "." if show_holds else ": here every run's is 1, so it is left "
          "out."), "", " ".join(filter(None, [
              tuning_sentence(tuning, present, settings.steps),
              report.stacks_sentence(
                  [r for n in present for r in results[n].values()])])), "",
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

  untrained = untrained_rows(results, present)
  aggregate = {}
  for name in present:
    by_seed = results[name]
    summary.append(table_row(name, by_seed))
    for seed, r in sorted(by_seed.items()):
      per_seed.append("| " + " | ".join(
          # The 3-digit metrics one digit more than their means, so the
          # paired differences between configurations can be recomputed
          # from here (Lake's error moves in steps of 0.0025).
          [name, str(seed)] + [_fmt(value(r, p),
                                    digits(f) + (f == "{:.3f}"))
                               for _, p, f in cols]) + " |")
    leaves = [_numeric_leaves(r) for r in by_seed.values()]
    keys = sorted(set().union(*leaves))
    aggregate[name] = {k: mean_sd([l[k] for l in leaves if k in l])
                       for k in keys}
  paired = [
      "# grouprep: paired comparisons", "",
      "Difference a − b of each headline metric over the seeds both runs "
      "have, with its 95% t-interval (n − 1 degrees of freedom), the "
      "two-sided t-test p-value and its Benjamini–Hochberg q-value over "
      f"its family (its rows with n ≥ {MIN_SEEDS}): the questions "
      + ", ".join(TRAINING_QUESTIONS) + f" form one ({TRAINING_FAMILY}), "
      f"every other question the other ({CONFIGS_FAMILY}). A difference "
      f"is *measured* only where n ≥ {MIN_SEEDS} and q < {Q_LEVEL}; "
      "otherwise no difference is measured at this n (which is not "
      "evidence that there is none). Lake error: lower is better; every "
      "other metric: higher is better.", "",
      "| question | a | b | metric | a: mean ± sd | b: mean ± sd | a − b "
      "[95% CI] | n | p | q | measured |",
      "|---|---|---|---|---|---|---|---|---|---|---|"]
  summary += [table_row(n, by_seed) for n, by_seed in untrained.items()] + [
      table_row(n, by_seed) for n, by_seed in baselines.items()] + [
      "", "*(untrained)*: the same encoder at initialisation (its seed), "
      "evaluated as the configuration evaluates (its pooling, its groups)."]
  for name, by_seed in baselines.items():
    leaves = [_numeric_leaves(r) for r in by_seed.values()]
    keys = sorted(set().union(*leaves))
    aggregate[name] = {k: mean_sd([l[k] for l in leaves if k in l])
                       for k in keys}
    some = next(iter(by_seed.values()))
    summary.append(
        f"*{name}*: each image flattened at the training resolution "
        f"({some.get('image_size', '?')} px) and evaluated by the same "
        f"evaluators as {some.get('as', 'the configurations')} (its space, "
        "its pooling, its seeds' splits); no Theorem 1 "
        "(projects/group_note/pixels.py).")
  if missing:
    summary += ["", missing_sentence(missing)]
  rows = study_rows(results) if rows is None else rows
  for r in rows:
    d = r["diff"]
    paired.append(
        f"| {r['question']} | {r['a']} | {r['b']} | {r['metric']} | "
        f"{_cell(mean_sd(r['xa']), 3)} | {_cell(mean_sd(r['xb']), 3)} | "
        f"{_ci(d)} | {d['n']} | {_sig(d['p'])} | {_sig(d['q'])} | "
        f"{'yes' if d['measured'] else 'no'} |")
  summary += [""] + note_question(results, rows) + [""] + findings(
      rows, ceiling_configs(results))
  if curves:
    summary += [""] + convergence_section(curves, settings)
  return {"summary.md": "\n".join(summary) + "\n",
          "study_per_seed.md": "\n".join(per_seed) + "\n",
          "study_paired.md": "\n".join(paired) + "\n",
          "study_metrics.json": json.dumps(aggregate, indent=1,
                                           sort_keys=True) + "\n"}


def trained_only(metrics: Dict) -> Dict:
  """study_metrics.json's configurations (their runs have a step count),
  without the baselines that train nothing (raw pixels)."""
  return {n: v for n, v in metrics.items() if "step" in v}


def missing_sentence(missing: Dict[str, Dict[int, str]]) -> str:
  """The runs a table leaves out and why: a diverged run is not retried
  (resuming meets the same batches again), so its configuration's n stays
  below the seeds asked for."""
  return ("*Not in the table* (n counts the finished runs): " + "; ".join(
      f"`{name}` seed {seed}: {why}" for name, by_seed in missing.items()
      for seed, why in sorted(by_seed.items())) + ".")


def untrained_rows(results: Dict[str, Dict[int, Dict]],
                   names: Optional[Sequence[str]] = None
                   ) -> Dict[str, Dict[int, Dict]]:
  """{untrained_name(n): {seed: row}}: each configuration's encoder at
  initialisation (its seeds), shaped like its runs; configurations whose
  runs recorded none are left out."""
  untrained = {untrained_name(n): {s: report.untrained_row(r)
                                   for s, r in results[n].items()
                                   if "untrained" in r}
               for n in (results if names is None else names)}
  return {n: by_seed for n, by_seed in untrained.items() if by_seed}


def study_rows(results: Dict[str, Dict[int, Dict]]) -> List[Dict]:
  """The study's paired table (study_paired.md's rows, paired_rows'
  dicts): the runs, their untrained encoders and their training gains."""
  return paired_rows(dict(results, **untrained_rows(results),
                          **training_gains(results)))


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
  return with_qvalues(rows)


def with_qvalues(rows: List[Dict]) -> List[Dict]:
  """The rows with their "family" (comparisons.family of the question) and
  each diff's "q" (Benjamini-Hochberg over the testable p-values of its
  family), "excludes_0" (the 95% interval's verdict) and "measured" =
  testable and q < Q_LEVEL."""
  for r in rows:
    r["family"] = family(r["question"])
  for name in sorted({r["family"] for r in rows}):
    mine = [r for r in rows if r["family"] == name]
    q = bh_qvalues([r["diff"]["p"] if r["diff"]["testable"] else math.nan
                    for r in mine])
    for r, qi in zip(mine, q):
      d = r["diff"]
      d["excludes_0"] = bool(d["testable"] and (d["low"] > 0 or
                                                d["high"] < 0))
      d["q"] = float(qi)
      d["measured"] = bool(d["testable"] and qi < Q_LEVEL)
  return rows


def _sig(x: float) -> str:
  """A p- or q-value with 3 significant digits ("–" for NaN)."""
  return "–" if x is None or math.isnan(x) else f"{x:.3g}"


def _finite(*values) -> bool:
  return all(v is not None and math.isfinite(v) for v in values)


def _ci(d: Dict) -> str:
  """A paired difference as "+mean [low, high]"."""
  return f"{d['mean']:+.3f} [{_fmt(d['low'])}, {_fmt(d['high'])}]"


def _interval(d: Dict) -> str:
  if d["n"] < 2:
    return f"{d['mean']:+.3f}, n=1: no interval"
  text = f"{_ci(d)}, n={d['n']}"
  if not d["testable"]:
    return text + f" < {MIN_SEEDS}: untested"
  return text + (f", q={_sig(d['q'])}" if "q" in d else "")


def _mean_sd_n(stat: Dict, digits: int = 3) -> str:
  sd = "" if stat["n"] < 2 else f" ± {_fmt(stat['sd'], digits)}"
  return f"{_fmt(stat['mean'], digits)}{sd} (n={stat['n']})"


def _family_diff(rows: Sequence[Dict], a: str, b: str, metric: str
                 ) -> Optional[Dict]:
  """The paired row's diff of a − b on metric (a row stored as b − a is
  turned round; its p and q do not change), None when not compared."""
  for r in rows:
    if r["metric"] != metric:
      continue
    if (r["a"], r["b"]) == (a, b):
      return r["diff"]
    if (r["a"], r["b"]) == (b, a):
      d = r["diff"]
      return dict(d, mean=-d["mean"], low=-d["high"], high=-d["low"])
  return None


def ceiling_floor(results: Dict[str, Dict[int, Dict]]) -> Optional[Dict]:
  """mean_sd of RELATED_AGAINST's untrained encoder on CEILING_METRIC where
  it reaches NEAR_CEILING (the metric is then near its ceiling for centroid
  groups and carries no claim), else None."""
  values = _untrained_ceiling_values(results.get(RELATED_AGAINST, {}))
  stat = mean_sd(values) if values else None
  return stat if stat and stat["mean"] >= NEAR_CEILING else None


def note_question(results: Dict[str, Dict[int, Dict]],
                  rows: Optional[Sequence[Dict]] = None) -> List[str]:
  """The note's question, metric by metric, on the seeds the four share:
  which is best by mean, and whether it is measurably better than each of
  the others, as the paired table's family says (rows: paired_rows of the
  study; by default of `results` alone): n >= MIN_SEEDS and BH q <
  Q_LEVEL."""
  four = [n for n in NOTE_FOUR if n in results]
  lines = ["## The note's question: which of the four builds the better "
           "groups?", ""]
  if len(four) < 2:
    return lines + ["Fewer than two of the note's four configurations have "
                    "finished runs."]
  if rows is None:
    rows = paired_rows(results)
  ceiling = ceiling_floor(results)
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
    if ceiling and label == CEILING_METRIC:
      lines.append(
          f"- **{label}** (higher is better), seeds "
          f"{','.join(map(str, shared))}: near its ceiling for centroid "
          f"groups ({RELATED_AGAINST}'s untrained encoder already scores "
          f"{_mean_sd_n(ceiling)}), so it carries no claim; best mean "
          f"{best} {_mean_sd_n(mean_sd(at[best]))} (the intervals: "
          "study_paired.md).")
      continue
    beaten, not_beaten, untested = [], [], []
    for other in at:
      if other == best:
        continue
      d = _family_diff(rows, best, other, label)
      if d is None:
        d = paired_difference(at[best], at[other])
        d = dict(d, measured=False, testable=False)
      bucket = (untested if not d["testable"] else
                beaten if d["measured"] else not_beaten)
      bucket.append(f"{other} ({_interval(d)})")
    parts = []
    if beaten:
      parts.append("measurably better than " + "; ".join(beaten))
    if not_beaten:
      parts.append(f"no difference measured (q ≥ {Q_LEVEL}) from "
                   + "; ".join(not_beaten))
    if untested:
      parts.append(f"untested (fewer than {MIN_SEEDS} paired seeds) against "
                   + "; ".join(untested))
    lines.append(f"- **{label}** ({'lower' if lower_better else 'higher'} is "
                 f"better), seeds {','.join(map(str, shared))}: best mean "
                 f"{best} {_mean_sd_n(mean_sd(at[best]))}; "
                 + "; ".join(parts) + ".")
  return lines + ["", "Intervals: best − other, paired over the seeds both "
                  "have, 95% t-interval with n − 1 degrees of freedom; q: "
                  "its Benjamini–Hochberg q-value in study_paired.md's "
                  f"family; a difference is tested only with n ≥ {MIN_SEEDS} "
                  f"seeds (SPEC §5) and claimed only at q < {Q_LEVEL}."]


def _winner(name: str) -> str:
  """How a findings line names the better side of a measured difference."""
  if name.endswith(GAIN_SUFFIX):
    return f"training adds more to {name[:-len(GAIN_SUFFIX)]}"
  return f"{name} better"


def ceiling_configs(results: Dict[str, Dict[int, Dict]]) -> set:
  """The configurations whose own untrained encoder scores NEAR_CEILING or
  more on CEILING_METRIC (mean over its seeds): for them that metric is
  near its ceiling (centroid groups; medoid groups are far below)."""
  out = set()
  for name, by_seed in results.items():
    values = _untrained_ceiling_values(by_seed)
    if values and float(np.mean(values)) >= NEAR_CEILING:
      out.add(name)
  return out


def _untrained_ceiling_values(by_seed: Dict[int, Dict]) -> List[float]:
  """A configuration's untrained encoder on CEILING_METRIC, seed by seed
  (the finite values)."""
  values = [_get(r.get("untrained", {}), PATH[CEILING_METRIC])
            for r in by_seed.values()]
  return [v for v in values if _finite(v)]


def _config_of(row_name: str) -> str:
  """The configuration a paired row's side belongs to (its untrained
  encoder, or its gain, are that configuration's)."""
  for suffix in (GAIN_SUFFIX, untrained_name("")):
    if row_name.endswith(suffix):
      return row_name[:-len(suffix)]
  return row_name


def findings(rows: Sequence[Dict], ceiling: Sequence[str] = ()
             ) -> List[str]:
  """One line per compared pair: the measured differences (q < Q_LEVEL)
  with their intervals and q, the intervals that exclude 0 but do not
  survive the family's correction, the metrics with no difference measured,
  and the untested ones (fewer than MIN_SEEDS paired seeds). ceiling: the
  configurations for which CEILING_METRIC is near its ceiling
  (ceiling_configs); a pair's measured difference on it is listed apart,
  labelled so (SPEC §5: it carries no headline), where both sides are."""
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
    near = []
    for r in mine:
      if r["diff"]["measured"]:
        better = (r["diff"]["mean"] < 0) == r["lower_better"]
        at_ceiling = r["metric"] == CEILING_METRIC and all(
            _config_of(x) in ceiling for x in (a, b))
        (near if at_ceiling else parts).append(
            f"{r['metric']} {_interval(r['diff'])} "
            f"({_winner(a if better else b)})")
    if near:
      parts.append("near its ceiling for centroid groups (labelled, no "
                   "headline): " + "; ".join(near))
    chance = [f"{r['metric']} ({_interval(r['diff'])})" for r in mine
              if r["diff"].get("excludes_0") and not r["diff"]["measured"]]
    same = [r["metric"] for r in mine if r["diff"]["testable"]
            and not r["diff"]["measured"] and not r["diff"].get("excludes_0")]
    untested = [r["metric"] for r in mine if not r["diff"]["testable"]]
    if chance:
      parts.append(f"interval excludes 0 but q ≥ {Q_LEVEL}, not claimed: "
                   + "; ".join(chance))
    if same:
      parts.append("no difference measured in " + ", ".join(same))
    if untested:
      n = min(r["diff"]["n"] for r in mine if not r["diff"]["testable"])
      parts.append(f"untested (n={n} < {MIN_SEEDS} seeds): "
                   + ", ".join(untested))
    lines.append(f"- {question}, {a} − {b}: " + "; ".join(parts) + ".")
  counts = []
  for name in (CONFIGS_FAMILY, TRAINING_FAMILY):
    mine = [r for r in rows if r["family"] == name]
    if mine:
      counts.append(
          f"{name}, {sum(r['diff']['testable'] for r in mine)} tested "
          f"differences: {sum(bool(r['diff'].get('excludes_0')) for r in mine)}"
          " of their 95% intervals exclude 0 and "
          f"{sum(r['diff']['measured'] for r in mine)} keep a "
          f"Benjamini–Hochberg q-value below {Q_LEVEL}")
  lines += ["", "Families: " + "; ".join(counts) + ". Within each family, "
            "the expected share of false ones among the claimed differences "
            f"is at most {Q_LEVEL:.0%}. \"No difference measured\" at "
            f"n ≥ {MIN_SEEDS} is not evidence of equality."]
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
           f"t-interval, tested with n ≥ {MIN_SEEDS}; each interval read "
           "alone, with no multiplicity control: a description of the "
           "curves, not a claim of the paired table); the curves: "
           "convergence_*.png. Within one cosine schedule the learning rate "
           "over that quarter is at most 15% of its peak, so a flat end is "
           "partly the schedule's own: how many steps to train comes from "
           "separately scheduled runs (convergence_schedules.md, "
           "`python -m projects.group_note.convergence`).", "",
           "| metric | config | at start | at end | change [95% CI] | n | "
           "verdict |", "|---|---|---|---|---|---|---|"]
  for c in changes:
    d = c["diff"]
    verdict = (f"untested (n < {MIN_SEEDS})" if not d["testable"] else
               "still rising (interval above 0)"
               if d["measured"] and d["mean"] > 0 else
               "falling (interval below 0)" if d["measured"] else
               "no change measured (interval spans 0)")
    lines.append(
        f"| {titles[c['metric']]} | {c['name']} | {_cell(c['at_start'], 3)} | "
        f"{_cell(c['at_end'], 3)} | {_ci(d)} | {d['n']} | {verdict} |")
  tested = [c for c in changes if c["diff"]["testable"]]
  moving = [f"{titles[c['metric']]} of {c['name']} "
            f"({'rising' if c['diff']['mean'] > 0 else 'falling'})"
            for c in tested if c["diff"]["measured"]]
  lines += ["", f"{len(tested)} of {len(changes)} curves tested; "
            + (f"{len(moving)} still change (interval excluding 0): "
               + "; ".join(moving)
               if moving else "none changes (every interval spans 0)")
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
