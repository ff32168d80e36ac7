"""Two studies of the same configurations side by side: what changed when
the protocol changed (the step count, the tuned settings, the stack, and
the code in between, evaluators included).

results/study_before_after.md is written by `python -m
projects.group_note.docs` from results/study_metrics.json (after) and
results/study_2000_untuned/study_metrics.json (before: the untuned
2000-step study's tables as results/ held them before the tuned study
replaced them). The runs are not paired: the seeds match, the runs do not
(another step count, learning rate, stack and code), so each difference
is Welch's (grouprep.stats.welch_difference) over the two sets of seeds,
and a difference mixes everything that changed between the protocols. Both
the test metrics (the unseen alphabets, Lake's runs) and the validation ones
(the held-out characters, which chose the step count and the settings) are
shown, each tested on its own: a change on one split and none on the other
is not itself a measured difference between the splits. A gain on
validation is partly by construction (the same split chose the settings;
only the seeds are new), so it is counted apart and is no evidence that
the choice carries over.
"""
import json
import math
import os
from typing import Dict, List, Optional, Sequence, Tuple

from grouprep import stats
from projects.group_note import comparisons
from projects.group_note import tables
from projects.group_note import tune

BEFORE = "study_2000_untuned"
OUT = "study_before_after.md"
# The headline metrics, and beside the held-out ones the validation
# counterparts of the test columns: the tuning's score and 20-way 1-shot.
METRICS = comparisons.HEADLINE + (
    (tune.SCORE[0] + " (validation; the tuning's score: selected on)",
     tune.SCORE[1], False),
    ("held-out 20-way 1-shot (validation)",
     "heldout_characters.fewshot.20way_1shot.mean", False),
)


def _protocol(metrics: Dict, settings: Optional[Dict]) -> str:
  """One study's step count, tuning and stack, as its files record them."""
  trained = tables.trained_only(metrics)
  steps = sorted({int(v["step"]["mean"]) for v in trained.values()})
  tuned = (settings or {}).get("tuned") or {}
  untuned = sorted(n for n in trained if n not in tuned)
  stacks = (settings or {}).get("stacks")
  return (f"{'/'.join(map(str, steps))} steps; "
          + ("no configuration tuned (the shared defaults)" if not tuned else
             "each configuration at the settings its validation sweep chose"
             + (f", except {', '.join(untuned)} (the shared defaults)"
                if untuned else ""))
          + "; trained on "
          + ("; ".join(f"{s} ({n} runs)" for s, n in sorted(stacks.items()))
             if stacks else "a stack not recorded beside its tables "
             "(results/NOTES.md has it)"))


def _cell(stat: Dict) -> str:
  """The study tables' mean ± sd cell (tables._cell) with its n."""
  return tables._cell(stat, 3) + (f" ({stat['n']})" if stat["n"] > 1 else "")


def rows(before: Dict, after: Dict,
         names: Optional[Sequence[str]] = None) -> List[Dict]:
  """[{"config", "metric", "lower_better", "split" (validation or test),
  "before", "after", "diff" (Welch, after - before), "q", "changed"}] for every configuration with runs in both and every
  metric both have (METRICS); q: Benjamini-Hochberg
  over every testable row."""
  both = tables.trained_only(before).keys() & tables.trained_only(after)
  names = [n for n in (names or comparisons.CONFIGS) if n in both]
  out = []
  for name in names:
    for label, path, lower in METRICS:
      a = after[name].get("eval." + path)
      b = before[name].get("eval." + path)
      if a is None or b is None:
        continue
      out.append({"config": name, "metric": label, "lower_better": lower,
                  "split": ("validation" if path.startswith(
                      comparisons.VALIDATION_SPLIT + ".") else "test"),
                  "before": b, "after": a,
                  "diff": stats.welch_difference(a, b)})
  ps = [r["diff"]["p"] if r["diff"]["testable"] else math.nan for r in out]
  for r, q in zip(out, stats.bh_qvalues(ps)):
    r["q"] = float(q)
    r["changed"] = bool(r["diff"]["testable"] and q < tables.Q_LEVEL)
  return out


def changed(rs: Sequence[Dict], ceiling: Sequence[str] = (),
            collapsed: Optional[Dict[str, str]] = None) -> Dict[str, str]:
  """{split: "N of M tested differences changed, k for the better
  (metric: configs; ...), N - k for the worse (metric: configs)"},
  validation then test (M: the split's rows with a q); the metrics that
  discriminate first, then the ratio, then recall@1 with every drawing.
  ceiling: the configurations whose test recall@1 with every drawing is
  near its ceiling (comparisons.near_ceiling), called so there; collapsed:
  {configuration: "collapsed in both" (or after, before)}, said beside its
  name (collapsed_tags)."""
  out = {}
  every = comparisons.short(comparisons.CEILING_METRIC)
  for split in ("validation", "test"):
    tested = [r for r in rs if r["split"] == split and r["q"] == r["q"]]
    mine = [r for r in tested if r["changed"]]
    better = [r for r in mine if (r["diff"]["mean"] < 0) == r["lower_better"]]
    worse = [r for r in mine if r not in better]
    tags = lambda metric, c: [t for t in [
        # The ceiling is the unseen alphabets' (comparisons.near_ceiling).
        "near ceiling" if (split == "test" and metric == every
                           and c in ceiling) else "",
        (collapsed or {}).get(c, "")] if t]
    names = lambda group: "; ".join(
        f"{metric}: " + ", ".join(
            c + "".join(f" ({t})" for t in tags(metric, c))
            for c in sorted(configs))
        for metric, configs in _by_metric(group).items())
    out[split] = (f"{len(mine)} of {len(tested)} tested differences "
                  f"changed, {len(better)} for the better"
                  + (f" ({names(better)})" if better else "")
                  + f", {len(worse)} for the worse"
                  + (f" ({names(worse)})" if worse else ""))
  return out


def _prose_rank(label: str) -> int:
  """Where a metric comes in the README's prose: the metrics that
  discriminate (0), the note's ratio (1), recall@1 with every drawing (2)."""
  bare = comparisons.short(label)
  return (2 if bare == comparisons.short(comparisons.CEILING_METRIC)
          else 1 if bare == "ratio" else 0)


def _by_metric(group: Sequence[Dict]) -> Dict[str, set]:
  """{short metric label: the configurations of group's rows on it}, in
  _prose_rank's order (METRICS' within a rank)."""
  by = {}
  for label, _, _ in sorted(METRICS, key=lambda m: _prose_rank(m[0])):
    names = {r["config"] for r in group if r["metric"] == label}
    if names:
      by.setdefault(comparisons.short(label), set()).update(names)
  return by


def collapsed_tags(before: Dict, after: Dict) -> Dict[str, str]:
  """{configuration: "collapsed in both" / "collapsed after" / "collapsed
  before"} for those comparisons.collapsed finds in either study: a change
  to or from a collapsed encoder says little about the method."""
  was = {n for n, _, _ in comparisons.collapsed(before)}
  now = {n for n, _, _ in comparisons.collapsed(after)}
  return {n: "collapsed " + ("in both" if n in was and n in now else
                             "after" if n in now else "before")
          for n in sorted(was | now)}


def near_ceiling(after: Dict) -> List[str]:
  """The configurations of `after` whose own untrained encoder puts recall@1
  with every drawing near its ceiling (comparisons.near_ceiling)."""
  return sorted(n for n in tables.trained_only(after)
                if comparisons.near_ceiling(after, n))


def studies_changed(before: Dict, after: Dict,
                    rs: Sequence[Dict]) -> Dict[str, str]:
  """changed() for these two studies' rows (rs: rows(before, after)), each
  configuration's ceiling and collapse read from the studies themselves."""
  return changed(rs, near_ceiling(after), collapsed_tags(before, after))


def readme_sentence(counts: Dict[str, str]) -> str:
  """The README's pointer to the table, with its count of changed
  differences per split (counts: studies_changed())."""
  return ("Against the earlier untuned study (unpaired, everything that "
          f"changed at once; `results/{OUT}`): on the test metrics "
          f"{counts['test']}; on validation, the split that chose the "
          f"settings (its gains partly by selection), {counts['validation']}.")


def render(before: Dict, after: Dict, before_settings: Optional[Dict],
           after_settings: Optional[Dict], before_dir: str,
           after_dir: str, rs: Optional[Sequence[Dict]] = None,
           counts: Optional[Dict[str, str]] = None) -> str:
  """results/study_before_after.md (rs: rows(before, after), counts:
  studies_changed(before, after, rs), if known)."""
  rs = rows(before, after) if rs is None else rs
  counts = studies_changed(before, after, rs) if counts is None else counts
  tested = sum(r["q"] == r["q"] for r in rs)  # BH's m: the rows with a p
  lines = [
      "# Before and after: the same configurations under two protocols", "",
      f"Written by `python -m projects.group_note.docs` from "
      f"`{before_dir}/study_metrics.json` (before) and "
      f"`{after_dir}/study_metrics.json` (after).", "",
      f"- before: {_protocol(before, before_settings)}.",
      f"- after: {_protocol(after, after_settings)}.", "",
      "Unpaired: the seeds match, the runs do not, so each difference is "
      "after − before with Welch's 95% interval (degrees of freedom rounded "
      "down) and mixes everything that changed between the protocols, "
      "the code in between included (evaluators too). A change on one split "
      "and none on the other is not itself a measured difference between "
      "the splits. "
      f"*changed*: n ≥ {stats.MIN_SEEDS} on both sides and a "
      f"Benjamini–Hochberg q < {tables.Q_LEVEL} over this table's {tested} "
      "tested differences. *validation*: the held-out characters of the "
      "training alphabets, on which the step count and the settings were "
      "chosen; *test*: the unseen alphabets and Lake's runs, which chose "
      "nothing.", ""]
  lines += [f"- test: {counts['test']}.",
            f"- validation: {counts['validation']}. The settings were chosen "
            "on this split (new seeds, the same characters): a gain here is "
            "partly by selection."]
  lines += ["", "| config | metric | before | after | after − before "
            "[95% CI] | p | q | changed |", "|---|---|---|---|---|---|---|---|"]
  fmt = lambda x: "–" if x != x else f"{x:.3g}"
  for r in rs:
    d = r["diff"]
    ci = ("" if d["low"] != d["low"] else
          f" [{d['low']:+.3f}, {d['high']:+.3f}]")
    lower = " (lower is better)" if r["lower_better"] else ""
    lines.append(
        f"| {r['config']} | {r['metric']}{lower} | {_cell(r['before'])} | "
        f"{_cell(r['after'])} | {d['mean']:+.3f}{ci} | {fmt(d['p'])} | "
        f"{fmt(r['q'])} | {'yes' if r['changed'] else 'no'} |")
  return "\n".join(lines) + "\n"


def _load(folder: str) -> Tuple[Dict, Optional[Dict]]:
  """(study_metrics.json, study_settings.json or None) of a study folder."""
  with open(os.path.join(folder, "study_metrics.json")) as f:
    metrics = json.load(f)
  path = os.path.join(folder, "study_settings.json")
  if not os.path.exists(path):
    return metrics, None
  with open(path) as f:
    return metrics, json.load(f)


def _studies(results: str) -> Optional[Tuple[Dict, Optional[Dict], Dict,
                                             Optional[Dict]]]:
  """(before, its settings, after, its settings), or None where results/
  has no earlier study beside it (BEFORE), still holds that same study, or
  the two share no configuration."""
  before_dir = os.path.join(results, BEFORE)
  if not os.path.exists(os.path.join(before_dir, "study_metrics.json")):
    return None
  before, before_settings = _load(before_dir)
  after, after_settings = _load(results)
  if before == after or not rows(before, after):
    return None
  return before, before_settings, after, after_settings


def output(results: str) -> Tuple[Optional[str], str]:
  """(the table's text, the README's sentence), read and compared once;
  (None, "") where _studies finds no pair to set side by side."""
  studies = _studies(results)
  if studies is None:
    return None, ""
  before, before_settings, after, after_settings = studies
  rs = rows(before, after)
  counts = studies_changed(before, after, rs)
  return (render(before, after, before_settings, after_settings,
                 "results/" + BEFORE, "results", rs, counts),
          readme_sentence(counts))
