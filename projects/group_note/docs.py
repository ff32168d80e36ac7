"""The study's figures in the README, docs/ and the config docstrings,
written from results/ (study_metrics.json and study_paired.md, which the
study writes), so no page holds a study number the study did not write.

  python -m projects.group_note.docs           # rewrite the generated parts
  python -m projects.group_note.docs --check   # exit 1 where a part differs

Generated parts: README.md between `<!-- note-study -->` markers (the study's
cost, its table and the answer to the note's question), docs/configs.md
between `<!-- study-costs -->` markers, docs/set_transformer.md between
`<!-- interacting-items -->` markers (the set transformers' comparisons),
docs/configs.md between `<!-- protonet-final -->` markers (ProtoNet's one
reading of test, from results/protonet/), docs/toolchain.md between
`<!-- study-stack -->` markers (the stacks that trained the study), and the
`Cost (the note's study ...)` paragraph of each studied config's docstring
(configs/NAME.py); and results/study_before_after.md, the study beside the
earlier untuned one in results/study_2000_untuned/ (before_after.py).
"""
import argparse
import collections
import json
import math
import os
import re
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from grouprep import report
from grouprep.stats import MIN_SEEDS
from projects.group_note import before_after
from projects.group_note import comparisons
from projects.group_note import study
from projects.group_note.comparisons import (COMPARISONS, HEADLINE,
                                             NOTE_FOUR, RELATED,
                                             RELATED_AGAINST,
                                             VALIDATION_SPLIT,
                                             untrained_name)
from projects.group_note.tables import _cell, trained_only, varied_fields

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
RESULTS = os.path.join(ROOT, "results")
STUDY_COMMAND = "python -m projects.group_note.study --seeds=0,1,2"
# The README table: the note's four, the related system chosen on
# validation, the note's item-level baseline, the untrained encoder (its
# centroid and its medoid groups); the unseen-alphabet headline metrics, then
# the paced training time.
TABLE_METRICS = tuple((label, path, lower) for label, path, lower in HEADLINE
                      if path.split(".")[0] in ("unseen_alphabets",
                                                "lake_one_shot_error"))
# The untrained encoders' floors: (the configuration whose seeds, how its
# groups are formed).
UNTRAINED_ROWS = (("gi_centroid", "centroid"), ("gi_medoid", "medoid"))
_NUMBERS = {2: "two", 3: "three"}
RATIO = "unseen ratio (rotation)"
# The raw-pixel rows (projects.group_note.pixels), where results/ has them.
PIXELS, PIXELS_MEDOID = comparisons.PIXELS, comparisons.PIXELS_MEDOID
PIXEL_SIZE = lambda metrics: int(metrics[PIXELS]["image_size"]["mean"])
RETRIEVAL = "unseen dc recall@1, 5 drawings"
RETRIEVAL_ALL = comparisons.CEILING_METRIC
AUGMENTED = "gi_centroid_augmented"  # item_item's augmentation, given gi_centroid
# The metrics the answer leads with: they separate the encoders, where
# recall@1 with every drawing is near its ceiling for raw pixels and the
# untrained encoder alike.
DISCRIMINATING = (RETRIEVAL, "unseen 20-way 1-shot", "Lake error")
SHORT = {label: comparisons.short(label) for label, _, _ in HEADLINE}


# --------------------------------------------------------------------------
# Reading results/.
# --------------------------------------------------------------------------
def read_paired(text: str) -> List[Dict]:
  """study_paired.md's rows as {"question", "a", "b", "metric", "mean",
  "low", "high", "n", "p", "q", "measured"} (the numbers as the table prints
  them). A table written before the study computed q-values has no p and q
  columns: there "p" and "q" are None and "measured" is the interval's
  verdict, with no multiplicity control (has_qvalues tells them apart)."""
  rows = []
  cell = r"\s*([^|]*?)\s*"
  number = r"\s*([-+\d.e–]+)\s*"
  pattern = re.compile(
      r"^\|" + r"\|".join([cell] * 6) +
      r"\|\s*([-+]?[\d.]+) \[([-\d.–]+), ([-\d.–]+)\]\s*\|\s*(\d+)\s*\|"
      r"(?:" + number + r"\|" + number + r"\|)?"
      r"\s*(yes|no)\s*\|$")
  num = lambda s: float("nan") if s == "–" else float(s)
  for line in text.splitlines():
    m = pattern.match(line)
    if not m:
      continue
    q, a, b, metric, _, _, mean, low, high, n, pv, qv, measured = m.groups()
    rows.append(dict(question=q, a=a, b=b, metric=metric, mean=float(mean),
                     low=num(low), high=num(high), n=int(n),
                     p=None if pv is None else num(pv),
                     q=None if qv is None else num(qv),
                     measured=measured == "yes"))
  return rows


def has_qvalues(rows: Sequence[Dict]) -> bool:
  """Whether the paired table carries Benjamini-Hochberg q-values (its
  "measured" is then q < 0.05; before, the interval excluding 0)."""
  return bool(rows) and all(r["q"] is not None for r in rows)


def load(results: str = RESULTS) -> Tuple[Dict, List[Dict]]:
  """(study_metrics.json, study_paired.md's rows)."""
  with open(os.path.join(results, "study_metrics.json")) as f:
    metrics = json.load(f)
  with open(os.path.join(results, "study_paired.md")) as f:
    rows = read_paired(f.read())
  return metrics, rows


def _stat(metrics: Dict, name: str, path: str,
          untrained: bool = False) -> Optional[Dict]:
  leaves = metrics.get(name, {})
  key = ("untrained." if untrained else "eval.") + path
  return leaves.get(key) or (None if untrained else leaves.get(path))


def _digits(label: str) -> int:
  return 2 if "ratio" in label else 3


def _ms(stat: Optional[Dict], label: str) -> str:
  return _cell(stat, _digits(label))


# --------------------------------------------------------------------------
# What the study found, as the README says it.
# --------------------------------------------------------------------------
def _row(rows, a, b, metric) -> Optional[Tuple[Dict, bool]]:
  """The paired row of a vs b on metric, and whether it is stored as b − a."""
  for r in rows:
    if r["metric"] == metric and (r["a"], r["b"]) == (a, b):
      return r, False
    if r["metric"] == metric and (r["a"], r["b"]) == (b, a):
      return r, True
  return None


def _lower_better(metric: str) -> bool:
  return next(lower for label, _, lower in HEADLINE if label == metric)


def _untestable(r: Dict) -> bool:
  """A paired row with no test: fewer than 3 seeds, or the same difference
  at every seed (no spread: its p-value is NaN)."""
  return r["n"] < 3 or (r.get("p") is not None and r["p"] != r["p"])


def beats(rows, a, b, metric) -> Optional[bool]:
  """True: a measurably better than b; False: b measurably better or no
  measurable difference; None: not compared (or untested)."""
  found = _row(rows, a, b, metric)
  if found is None or _untestable(found[0]):
    return None
  r, flipped = found
  diff = -r["mean"] if flipped else r["mean"]
  better = diff < 0 if _lower_better(metric) else diff > 0
  return bool(r["measured"] and better)


def best(metrics, names, metric) -> str:
  """The name with the best mean on a headline metric."""
  path, lower = next((p, low) for label, p, low in HEADLINE if label == metric)
  sign = -1.0 if lower else 1.0
  have = [n for n in names if _stat(metrics, n, path)]
  return max(have, key=lambda n: sign * _stat(metrics, n, path)["mean"])


def _tuning_score(metrics: Dict, name: str) -> Optional[float]:
  """name's mean on the tuning's score (tune.SCORE: recall@1 at 5 drawings
  on the held-out characters of the training alphabets), None where it has
  none (or a NaN)."""
  from projects.group_note import tune  # pylint: disable=g-import-not-at-top
  mean = (_stat(metrics, name, tune.SCORE[1]) or {}).get("mean")
  return None if mean is None or mean != mean else mean


def related_chosen_on_validation(metrics) -> Optional[str]:
  """The related system with the best mean on the tuning's score (named
  before the sweep; the test splits choose nothing); ties, or no score:
  RELATED's order (related_by_score says which decided). None while no
  related system has a finished run (a study part way)."""
  have = [n for n in RELATED if n in metrics]
  if not have:
    return None
  score = lambda n: _tuning_score(metrics, n)
  return max(have, key=lambda n: (-math.inf if score(n) is None else score(n),
                                  -RELATED.index(n)))


def _related_how(metrics) -> str:
  """How related_chosen_on_validation chose, in words."""
  return ("the best mean over the study's seeds on the tuning's validation "
          "score" if related_by_score(metrics) else
          "the first in the study's order: none has the tuning's score")


def _related_candidates(metrics) -> str:
  """The related systems related_chosen_on_validation chose among, and
  those it could not: no finished run yet, or (where a score chose) no
  score."""
  have = [n for n in RELATED if n in metrics]
  missing = [n for n in RELATED if n not in metrics]
  unscored = ([n for n in have if _tuning_score(metrics, n) is None]
              if related_by_score(metrics) else [])
  why = ([f"{_names(missing)}: no finished run yet"] if missing else []) + (
      [f"{_names(unscored)}: no tuning score"] if unscored else [])
  return _names([n for n in have if n not in unscored]) + (
      f" ({'; '.join(why)}, so not among them)" if why else "")


def related_by_score(metrics) -> bool:
  """Whether a tuning score chose the related row (else RELATED's order)."""
  return any(_tuning_score(metrics, n) is not None
             for n in RELATED if n in metrics)


def _names(names: Sequence[str]) -> str:
  names = list(names)
  return names[0] if len(names) == 1 else (
      ", ".join(names[:-1]) + " and " + names[-1])


def _n(rows, a, b, metric) -> int:
  """The seeds the paired row of a and b on metric has (0: no row)."""
  found = _row(rows, a, b, metric)
  return found[0]["n"] if found else 0


def _why_untested(rows, a, b, metric) -> str:
  """Why a and b's difference on metric has no test: no paired row, fewer
  than 3 seeds, or no spread (the same difference at every seed)."""
  found = _row(rows, a, b, metric)
  if found is None:
    return "no paired row"
  n = found[0]["n"]
  return f"n = {n} < 3" if n < 3 else "no spread across seeds"


def _by_n(items, n_of) -> List[Tuple[object, List]]:
  """items grouped by n_of(item) (a row's n, or why it is untested), in
  increasing order: each verdict says the n of its own rows."""
  groups = {}
  for item in items:
    groups.setdefault(n_of(item), []).append(item)
  return sorted(groups.items())


def _level_text(rows, a, others, metric) -> str:
  """"no difference measured from X and Y at n = 3" (grouped by each
  row's own n; not evidence of equality)."""
  return "; ".join(
      f"no difference measured from {_names(group)} at n = {n}"
      for n, group in _by_n(others, lambda o: _n(rows, a, o, metric)))


def _against(rows, leader, others, metric) -> str:
  """How leader stands against each of others on metric: measured above,
  no difference measured at that row's n (not evidence of equality),
  measured below, untested (fewer than 3 paired seeds, or no row)."""
  if not others:
    return "no other configuration to compare"
  verdicts = {o: beats(rows, leader, o, metric) for o in others}
  if all(verdicts.values()) and len(others) > 1:
    return ("measurably better than each of the other "
            f"{_NUMBERS.get(len(others), len(others))}")
  above = [o for o, v in verdicts.items() if v]
  below = [o for o in others if verdicts[o] is False
           and beats(rows, o, leader, metric)]
  level = [o for o, v in verdicts.items() if v is False and o not in below]
  untested = [o for o, v in verdicts.items() if v is None]
  parts = (([f"measurably better than {_names(above)}"] if above else [])
           + ([_level_text(rows, leader, level, metric)] if level else [])
           + ([f"measurably worse than {_names(below)}"] if below else [])
           + [f"untested against {_names(group)} ({why})" for why, group
              in _by_n(untested,
                       lambda o: _why_untested(rows, leader, o, metric))])
  return "; ".join(parts)


def _diff_text(rows, a, b, metric) -> Optional[str]:
  """a − b on metric as "+0.152 [0.076, 0.228]", None when not compared."""
  found = _row(rows, a, b, metric)
  if found is None:
    return None
  r, flipped = found
  mean, low, high = ((-r["mean"], -r["high"], -r["low"]) if flipped
                     else (r["mean"], r["low"], r["high"]))
  q = "" if r.get("q") is None or r["q"] != r["q"] else f", q = {r['q']:.2g}"
  return f"{mean:+.3f} [{low:.3f}, {high:.3f}]{q}"


def _batch(config) -> Tuple[int, int, int]:
  """C × V × M: classes, groups per class, items per group of a batch."""
  d = config.data
  return d.classes_per_batch, d.groups_per_class, d.items_per_group


def _config(name: str):
  """configs/NAME.py's get_config(), None for a name with no such file (a
  test's made-up name)."""
  import importlib  # pylint: disable=g-import-not-at-top
  try:
    return importlib.import_module(f"configs.{name}").get_config()
  except ModuleNotFoundError as e:
    if e.name != f"configs.{name}":
      raise
    return None


def _own_batches(names: Sequence[str], base) -> str:
  """"; NAME and NAME at their own" (batch shapes) for the configs/NAME.py
  among names whose batch is not base's; '' when none."""
  configs = {name: _config(name) for name in sorted(names)}
  own = [name for name, config in configs.items()
         if config is not None and _batch(config) != _batch(base)]
  if not own:
    return ""
  return f"; {_names(own)} at {'its' if len(own) == 1 else 'their'} own"


def _steps_text(steps: Sequence[int], convergence: Optional[Dict]) -> str:
  """"4000 steps per run" and, where the convergence command chose that
  count, how (results/convergence_schedules.json)."""
  text = f"{'/'.join(map(str, steps))} steps per run"
  if not convergence or list(steps) != [convergence.get("chosen_steps")]:
    return text
  still = sorted(n for n, c in convergence.get("per_config", {}).items()
                 if c.get("converged") is False)
  source = "`results/convergence_schedules.md`"
  lower = convergence.get("lower_by_metric") or {}
  fell = ("; validation curves fell at a longer count by more than that "
          "count's seed sd, which the rule (gains only) does not weigh: "
          + _names([
              f"{label} ({_names(names)})" for label, names in lower.items()])
          if lower else "")
  # A stack moves a single run by about a seed's spread (docs/toolchain.md).
  stacks = convergence.get("stacks") or {}
  trained = ("; those runs trained on " + "; ".join(
      f"{stack} ({n} runs)" for stack, n in stacks.items())
             if stacks else "")
  if not still:
    return (f"{text} (the count the separately scheduled convergence runs "
            f"chose{fell}{trained}; {source})")
  return (f"{text}, the longest count the separately scheduled convergence "
          "runs tried (at the shared defaults): "
          f"{_names(still)} still improved on a validation metric up to "
          "it, so the count is a "
          f"budget, not convergence{fell}{trained} ({source})")


def _swept_fields(name: str, steps: Optional[int]) -> Optional[List[str]]:
  """The fields name's tuning budget varied at `steps` a run (tune.swept);
  None for a name with no configs/NAME.py (a test's made-up name)."""
  from projects.group_note import tune  # pylint: disable=g-import-not-at-top
  config = _config(name)
  return None if config is None else tune.swept(config, steps)


def _narrow_choices(names: Sequence[str], tuning: Dict,
                    metrics: Dict) -> Tuple[int, int]:
  """(k, m): of the m configurations among names whose sweep recorded its
  runner-up and whose study runs give a seed sd of the tuning's score at
  the choice, the k whose choice won by less than that sd: one seed a
  setting, so there the choice is the best of one draw."""
  from projects.group_note import tune  # pylint: disable=g-import-not-at-top
  k = m = 0
  for name in names:
    score = tuning[name].get("score")
    runner_up = tuning[name].get("runner_up_score")
    stat = _stat(metrics, name, tune.SCORE[1]) or {}
    if (score is None or runner_up is None
        or stat.get("n", 0) < MIN_SEEDS or stat["sd"] != stat["sd"]):
      continue
    m += 1
    k += score - runner_up < stat["sd"]
  return k, m


def _tuning_text(names: Sequence[str], tuning: Dict,
                 metrics: Dict) -> Tuple[str, str]:
  """(what the tuning budget varied for names, the study's tuned
  configurations; the details: the budget, what it cost, the key
  parameter left at its default, which chose the grid's largest rate, how
  many choices won by less than the study's seed sd)."""
  from projects.group_note import tune  # pylint: disable=g-import-not-at-top
  known = [n for n in names if tuning[n].get("steps")]
  varied = varied_fields([
      tuning[n].get("swept") or _swept_fields(n, tuning[n]["steps"])
      for n in known])
  what = ("the settings" if not varied else "the learning rate"
          if varied == {"train.learning_rate"} else
          "the learning rate and key parameter")
  details = []
  if known and len(known) == len(names):
    # Each configuration's grid at its sweep's length, as tune ran it.
    sizes = set()
    for n in known:
      config = _config(n)
      if config is not None:
        sizes.add((len(tune.grid(config, tuning[n]["steps"])),
                   tuning[n]["steps"]))
    if len(sizes) == 1:
      points, steps = sizes.pop()
      details.append(f"{points} settings × 1 seed × {steps} steps = "
                     f"{points * steps:,} steps each")
  else:
    details.append("the sweep's length is not recorded for "
                   f"{_names([n for n in names if n not in known])}")
  seconds = [tuning[n].get("seconds") for n in names]
  if names and all(isinstance(x, (int, float)) for x in seconds):
    details.append(f"{sum(seconds) / 3600:.1f} h for the {len(names)} sweeps "
                   "by the runs' own clocks")
  # The columns the study leads with are not all what the sweeps chose on.
  details.append(f"each chosen by one validation score ({tune.SCORE[0]}), "
                 "not by the few-shot or Lake's columns")
  if varied == {"train.learning_rate"}:
    details.append("each key parameter (the InfoNCE temperature, the "
                   "triplet margin, ...) at its configs/NAME.py default: the "
                   "budget reaches no second value of it at this step count")
  for end, rate, side in (("largest", max(tune.LEARNING_RATES), "above"),
                          ("smallest", min(tune.LEARNING_RATES), "below")):
    edge = [n for n in names
            if (tuning[n].get("settings") or {}).get("train.learning_rate")
            == rate]
    if edge:
      details.append(f"{_names(edge)} chose the grid's {end} rate "
                     f"({rate:g}), so a better one may lie {side} it")
  narrow, of = _narrow_choices(names, tuning, metrics)
  if of:
    details.append(f"{narrow} of {of} choices won by less than one seed sd "
                   "of the score (the study's, at the chosen setting): each "
                   "setting had one seed, so those choices are within seed "
                   "noise (a margin is a difference of two draws, so the "
                   "count is a lower bound)")
  return what, "; ".join(details + ["`results/tuning/`"])


def scope(metrics: Dict, tuning: Optional[Dict] = None,
          convergence: Optional[Dict] = None) -> str:
  """One sentence: the encoder, the image size, the step count (and why,
  from the convergence command's choice), and the tuning budget (what it
  varied, its cost, the choices at the grid's edge) the study's numbers
  hold for."""
  import importlib  # pylint: disable=g-import-not-at-top
  base = importlib.import_module("configs.base").get_base_config()
  steps = sorted({int(v["step"]["mean"])
                  for v in trained_only(metrics).values()})
  model = {"conv4": "Conv-4"}.get(base.model.name, base.model.name)
  trained = trained_only(metrics)
  swept = sorted({int(t["steps"]) for t in (tuning or {}).values()
                  if t.get("steps")})
  at = (f", swept at {'/'.join(map(str, swept))} steps a run"
        if swept and swept != steps else "")
  if tuning:
    what, details = _tuning_text(sorted(set(trained) & set(tuning)), tuning,
                                 metrics)
  if tuning and set(trained) <= set(tuning):
    budget = (f"each configuration at {what} its own validation sweep chose, "
              f"the same budget for every method{at} ({details})")
  elif tuning:
    budget = (f"{len(set(trained) & set(tuning))} of {len(trained)} "
              f"configurations at {what} their own validation sweeps chose, "
              f"the same budget for each{at} ({details}), the rest at the "
              "shared defaults")
  else:
    budget = (f"no method tuned: every configuration at the shared defaults "
              f"(InfoNCE temperature {base.loss.temperature:g}, "
              f"{base.train.optimizer.capitalize()} at learning rate "
              f"{base.train.learning_rate:g} on a {base.train.schedule} "
              f"schedule, {' × '.join(map(str, _batch(base)))} "
              f"batches{_own_batches(trained, base)}), so every ranking "
              "below holds for this regime only")
  return (f"Scope: {model} encoders on {base.data.image_size}-px Omniglot, "
          f"{_steps_text(steps, convergence)}; {budget}.")


NEAR_CEILING = comparisons.NEAR_CEILING


near_ceiling = comparisons.near_ceiling


def _verdicts(rows, a, b, labels, ms, b_title: Optional[str] = None) -> str:
  """a against b (called b_title, default b) on each of labels, grouped:
  measurably better (the difference), measurably worse, not measured apart
  at each row's n, untested. ms(name, label): a mean ± sd."""
  title = b_title or b
  verdict = {label: beats(rows, a, b, label) for label in labels}
  better = [l for l in labels if verdict[l]]
  worse = [l for l in labels if verdict[l] is False and beats(rows, b, a, l)]
  level = [l for l in labels if verdict[l] is False and l not in worse]
  untested = [l for l in labels if verdict[l] is None]
  detail = lambda ls: _names([
      f"{SHORT[l]} ({ms(a, l)} vs {ms(b, l)}; {_diff_text(rows, a, b, l)})"
      for l in ls])
  parts = (([f"measurably better than {title} on {detail(better)}"]
            if better else [])
           + ([f"measurably worse than {title} on {detail(worse)}"]
              if worse else [])
           + [f"not measured apart from {title} on "
              f"{_names([SHORT[l] for l in ls])} at n = {n}"
              for n, ls in _by_n(level, lambda l: _n(rows, a, b, l))]
           + [f"untested against {title} on "
              f"{_names([SHORT[l] for l in ls])} ({why})" for why, ls
              in _by_n(untested, lambda l: _why_untested(rows, a, b, l))])
  return "; ".join(parts)


def not_above_own_floor(metrics: Dict) -> List[Tuple[str, Dict, Dict, bool]]:
  """[(name, trained, untrained, below)] of the trained configurations that
  training did not lift above their own untrained encoder on the tuning's
  score (validation: tune.SCORE) by more than the seed spread (the trained
  mean minus its sd at or under the untrained mean plus its sd, n >= 3
  each); below: under it by more than the spread (the trained mean plus
  its sd under the untrained mean minus its sd). The stats are
  study_metrics.json's {"mean", "sd", "n"}; a NaN mean compares false, so
  such a configuration is left out."""
  from projects.group_note import tune  # pylint: disable=g-import-not-at-top
  out = []
  for name in sorted(trained_only(metrics)):
    trained = _stat(metrics, name, tune.SCORE[1])
    floor = _stat(metrics, name, tune.SCORE[1], untrained=True)
    if not (trained and floor) or min(trained["n"], floor["n"]) < 3:
      continue
    if trained["mean"] - trained["sd"] <= floor["mean"] + floor["sd"]:
      below = trained["mean"] + trained["sd"] < floor["mean"] - floor["sd"]
      out.append((name, trained, floor, below))
  return out


def _collapsed_text(metrics: Dict) -> str:
  """The answer's bullet on comparisons.collapsed's configurations ('' when
  none)."""
  found = comparisons.collapsed(metrics)
  if not found:
    return ""
  one = len(found) == 1
  cells = _names([f"{name} ({_cell(t, 4)} vs {_cell(f, 3)}, n = {t['n']})"
                  for name, t, f in found])
  return ("Collapsed: groups of different unseen alphabets sit, on average, "
          f"under {comparisons.COLLAPSED:.0%} of the distance "
          + ("its own untrained encoder puts" if one else
             "their own untrained encoders put")
          + " between them (trained vs untrained; a cut set after the "
          f"tuned study's runs): {cells}. "
          + ("Its rows describe a collapsed encoder" if one else
             "Their rows describe collapsed encoders")
          + " at the study's settings, not the method in general.")


def _floor_text(metrics: Dict) -> str:
  """The answer's bullet on not_above_own_floor's configurations ('' when
  none). The rule compares mean ± sd bands, not paired seeds: it names
  what to read with care, and claims no difference."""
  from projects.group_note import tune  # pylint: disable=g-import-not-at-top
  found = not_above_own_floor(metrics)
  if not found:
    return ""
  one = len(found) == 1
  cells = _names([
      f"{name} ({_cell(t, 3)} vs {_cell(f, 3)}, n = {t['n']}; "
      + ("below it by more than both sds" if below
         else "the sd bands overlap") + ")"
      for name, t, f, below in found])
  return ("Not above its own untrained encoder on validation "
          f"({tune.SCORE[0]}, the tuning's score) by more than the seed "
          f"spread (mean ± sd bands, not a paired test): {cells}. No gain "
          "from training beyond that spread is seen on what this score "
          "rewards (which is not a measured absence of one); read "
          f"{'its' if one else 'their'} rows with that in mind.")


def _worse_than_untrained_text(rows, metrics, said: Sequence[str] = ()
                               ) -> str:
  """The answer's bullet naming each configuration (but those the training
  bullet has said: `said`) that its own paired "training" rows measure
  worse than its untrained encoder on a discriminating metric ('' when
  none): what training took away."""
  found = []
  for name in sorted(set(trained_only(metrics)) - set(said)):
    worse = [l for l in DISCRIMINATING
             if beats(rows, untrained_name(name), name, l)]
    if worse:
      found.append(f"{name} on " + _names([
          f"{SHORT[l]} ({_diff_text(rows, name, untrained_name(name), l)})"
          for l in worse]))
  if not found:
    return ""
  return ("Measurably worse than its own untrained encoder (its \"training\" "
          "rows in `results/study_paired.md`, trained − untrained): "
          + "; ".join(found) + ".")


def _lead(rows, metrics, four, label, ms) -> str:
  """The note's four on one metric: the highest mean and how it stands
  against the others; bold only where it is measurably above each."""
  leader = best(metrics, four, label)
  others = [o for o in four if o != leader]
  against = _against(rows, leader, others, label)
  detail = f"({ms(leader, label)}; {against}{_among(rows, others, label)})"
  if others and all(beats(rows, leader, o, label) for o in others):
    return f"**{leader}** is measurably best on {SHORT[label]} {detail}"
  best_mean = "the lowest mean" if _lower_better(label) else "the highest mean"
  return f"on {SHORT[label]}, {leader} has {best_mean} {detail}"


def _among(rows, names, metric) -> str:
  """"; among the others, X is measurably better than Y and Z" for every
  measured pair of names on metric ('' when none): the differences a
  sentence led by the highest mean would otherwise leave out."""
  above = {a: [b for b in names if b != a and beats(rows, a, b, metric)]
           for a in names}
  found = [f"{a} is measurably better than {_names(bs)}"
           for a, bs in above.items() if bs]
  return "; among the others, " + "; ".join(found) if found else ""


def _training_text(rows, names, ms) -> str:
  """The answer's bullet on what training adds: each of names against its
  own untrained encoder (same seed, same way of forming groups) on the
  discriminating metrics ('' for no names)."""
  parts = []
  for name in names:
    untrained = untrained_name(name)
    as_stored = (lambda n, l, name=name, untrained=untrained:
                 ms(name, l, untrained=n == untrained))
    parts.append(f"{name} is " + _verdicts(
        rows, name, untrained, DISCRIMINATING, as_stored,
        "its own untrained encoder"))
  return "Training: " + "; ".join(parts) + "." if parts else ""


def _group_form(name: str) -> Optional[str]:
  """How configs/NAME.py's evaluation forms a group from its items, as
  grouprep.encoder.Space does: normalised after pooling raw items (a loss
  that pools, unit space), pooled from unit-norm items (a loss that pools
  nothing, unit space) or pooled from raw items (raw space); None for a
  name with no configs/NAME.py (a test's made-up name)."""
  from grouprep.methods import registry  # pylint: disable=g-import-not-at-top
  config = _config(name)
  if config is None:
    return None
  method = registry.get_method(config.loss)
  if method.embedding_space == "raw":
    return "pooled from raw items"
  return ("normalised after pooling raw items" if method.pools_in_loss
          else "pooled from unit-norm items")


def _group_definitions(one: str, *others: str) -> str:
  """'' where one forms its groups as each of others does; else a clause
  saying that its comparisons with them on the group metrics compare the
  encoders and the ways of forming a group (docs/evaluation.md)."""
  form = {name: _group_form(name) for name in (one,) + others}
  differ = [o for o in others
            if None not in (form[one], form[o]) and form[o] != form[one]]
  if not differ:
    return ""
  forms = {}
  for name in [one] + differ:
    forms.setdefault(form[name], []).append(name)
  return (" (" + ", ".join(f"{_names(names)}'s groups are {form}"
                           for form, names in forms.items())
          + ": on recall@1 at 5 drawings and the ratio this compares the "
          "encoders and the ways of forming a group; 20-way 1-shot and "
          "Lake's error build prototypes alike for every method, "
          "`docs/evaluation.md`)")


def answer(metrics: Dict, rows: List[Dict],
           tuning: Optional[Dict] = None) -> str:
  """The note's question, led by the metrics that discriminate (recall@1
  at 5 drawings, 20-way 1-shot, Lake's error), then the note's ratio, then
  the all-drawings recall where it is near its ceiling (no claim); each
  claim from the paired rows (measured: n >= 3 and, where the table has
  them, q < 0.05), each "not measured apart" at that row's own n. A
  highest mean is named as such, and bold only where it is measurably
  above each of the others. One bullet per part."""
  four = [n for n in NOTE_FOUR if n in metrics]
  path = comparisons.PATH
  ms = lambda name, label, untrained=False: _ms(
      _stat(metrics, name, path[label], untrained), label)
  first = ("On the metrics that discriminate between encoders, of the note's "
           "four: " + "; ".join(_lead(rows, metrics, four, label, ms)
                                for label in DISCRIMINATING) + "."
           if four else "")
  # The note's configuration that the paired table sets against the related
  # systems (fixed before the runs, not the best of the four on a test).
  finder = RELATED_AGAINST
  rival = related_chosen_on_validation(metrics)
  how = _related_how(metrics)
  second = (f"Of the related systems the table shows {rival} ({how}: a "
            "choice of row, not a measured ranking; the others' rows: "
            "`results/summary.md`); it is "
            f"{_verdicts(rows, rival, finder, DISCRIMINATING, ms)}; by the "
            "note's own metric, it is "
            f"{_verdicts(rows, rival, finder, (RATIO,), ms)}"
            f"{_group_definitions(rival, finder)}." if rival else "")
  baseline = comparisons.ITEM_BASELINE
  against = [n for n in comparisons.ITEM_LEVEL_AGAINST if n in metrics]
  item_level = (
      f"Against the note's item-level baseline ({baseline}: eq. 1, no groups "
      "and no labels in training, trained on random affine views; the "
      "note's four train on unaugmented images with alphabet labels"
      + (f"; {AUGMENTED} is gi_centroid on such views, which tells the "
         "augmentation apart (the objective and the labels still differ): "
         "its rows in `results/study_paired.md`" if AUGMENTED in metrics else
         f"; {AUGMENTED}, gi_centroid on such views, has no finished run "
         "yet, so the augmentation is not told apart from the objective and "
         "the labels")
      + "): " + ". ".join(
          # The discriminating metrics first; the note's ratio after them.
          f"{n} is {_verdicts(rows, n, baseline, DISCRIMINATING, ms)}; by "
          "the note's own metric, it is "
          + _verdicts(rows, n, baseline, (RATIO,), ms)
          for n in against) + _group_definitions(baseline, *against) + "."
      if baseline in metrics and against else "")
  trained_four = four or [n for n in [finder] if n in metrics]
  third = _training_text(rows, trained_four, ms)
  fourth = ("By the note's own metric: "
            + _lead(rows, metrics, four, RATIO, ms) + ". The ratio measures "
            "the separation of groups the group losses aim at, and it can "
            "rise while retrieval and few-shot accuracy fall "
            "(`docs/evaluation.md`), so it leads no answer here."
            if four else "")
  pixels = (f", raw {PIXEL_SIZE(metrics)}-px pixels {ms(PIXELS, RETRIEVAL_ALL)}"
            if PIXELS in metrics and _stat(metrics, PIXELS, path[RETRIEVAL_ALL])
            else "")
  fifth = ("Recall@1 with every drawing pooled is near its ceiling for "
           "centroid groups (the untrained encoder's centroid groups already "
           "score "
           f"{ms(finder, RETRIEVAL_ALL, untrained=True)}{pixels}; {finder} "
           f"{ms(finder, RETRIEVAL_ALL)}), so it carries no claim here (its "
           "paired rows: `results/study_paired.md`)."
           if finder in metrics and near_ceiling(metrics) else "")
  if has_qvalues(rows):
    tested = {f: sum(not _untestable(r) for r in rows
                     if comparisons.family(r["question"]) == f)
              for f in (comparisons.CONFIGS_FAMILY,
                        comparisons.TRAINING_FAMILY)}
    rule = (f"Each claim: n ≥ 3 seeds and a Benjamini–Hochberg q-value "
            "below 0.05 over its family of `results/study_paired.md` ("
            + "; ".join(f"{f}: {k} tested differences"
                        for f, k in tested.items()) + ").")
  else:
    rule = ("q-values: not yet computed for these runs "
            "(`results/study_paired.md` predates them); until the study "
            "reruns, \"measured\" here keeps the old rule, n ≥ 3 seeds and a "
            "95% interval excluding 0, with no multiplicity control.")
  return "\n".join(f"- {x}" for x in [first, second, item_level, third,
                                      fourth, fifth, _collapsed_text(metrics),
                                      _floor_text(metrics),
                                      _worse_than_untrained_text(
                                          rows, metrics, trained_four),
                                      rule] if x)


def study_cost(metrics: Dict) -> str:
  """What the study's runs took, from their own timings."""
  metrics = trained_only(metrics)
  runs = sum(v["step"]["n"] for v in metrics.values())
  paced = sum(v["paced_train_seconds"]["mean"] * v["paced_train_seconds"]["n"]
              for v in metrics.values())
  wall = sum(v["train_seconds"]["mean"] * v["train_seconds"]["n"]
             for v in metrics.values())
  ev = sum(v["eval_seconds"]["mean"] * v["eval_seconds"]["n"]
           for v in metrics.values())
  steps = sorted({int(v["step"]["mean"]) for v in metrics.values()})
  seeds = sorted({v["step"]["n"] for v in metrics.values()})
  per = (f"× {seeds[0]} seeds" if len(seeds) == 1 else
         f"with {' to '.join(map(str, (seeds[0], seeds[-1])))} seeds each")
  return (f"{runs} runs ({len(metrics)} configurations {per}, "
          f"{', '.join(map(str, steps))} steps each) took "
          f"{paced / 3600:.1f} h of training (paced: pauses left out; "
          f"{wall / 3600:.1f} h by the wall clock) and {ev / 3600:.1f} h of "
          f"evaluation on the 2-core CPU, as the runs recorded them")


def means_table(metrics: Dict, names: Sequence[str], titles: Dict[str, str],
                timed: bool = True,
                untrained_rows: Sequence = UNTRAINED_ROWS,
                groups: Sequence[str] = ("centroid", "medoid")) -> str:
  """The unseen-alphabet headline metrics (TABLE_METRICS), mean ± sd over
  seeds: a row per name (titled by `titles`, default `NAME`), then the
  floors of the ways of forming a group in `groups`: the untrained encoder
  (untrained_rows: (config, groups), where the study has them) and raw
  pixels; `timed`: the paced training time."""
  ceiling = near_ceiling(metrics)
  head = (["config", "n"] + [label.replace("unseen ", "") + (
      " (near ceiling for centroid groups)"
      if label == RETRIEVAL_ALL and ceiling else "")
                              for label, _, _ in TABLE_METRICS]
          + (["train s (paced)"] if timed else []))
  lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

  def row(title, name, untrained=False):
    stats = [_stat(metrics, name, p, untrained) for _, p, _ in TABLE_METRICS]
    n = min((s["n"] for s in stats if s), default=0)
    cells = [title, str(n)] + [_ms(s, label) for s, (label, _, _)
                               in zip(stats, TABLE_METRICS)]
    if timed:
      cells.append("–" if untrained or name in comparisons.PIXEL_ROWS else
                   _cell(metrics[name].get("paced_train_seconds"), 0))
    lines.append("| " + " | ".join(cells) + " |")

  for name in names:
    row(titles.get(name, f"`{name}`"), name)
  for name, kind in untrained_rows:
    if name in metrics and kind in groups:
      row(f"untrained encoder, {kind} groups ({name}'s seeds)", name,
          untrained=True)
  for name, kind in ((PIXELS, "centroid"), (PIXELS_MEDOID, "medoid")):
    if (kind in groups and name in metrics
        and comparisons.PIXEL_ROWS[name] in metrics):
      row(f"raw pixels, {PIXEL_SIZE(metrics)} px, {kind} groups", name)
  return "\n".join(lines)


def study_table(metrics: Dict) -> str:
  four = [n for n in NOTE_FOUR if n in metrics]
  rival = related_chosen_on_validation(metrics)
  baseline = [comparisons.ITEM_BASELINE] if (
      comparisons.ITEM_BASELINE in metrics) else []
  return means_table(
      metrics, four + ([rival] if rival else []) + baseline,
      {rival: f"`{rival}` (the related system chosen on validation)",
       comparisons.ITEM_BASELINE: f"`{comparisons.ITEM_BASELINE}` (the "
       "note's item-level baseline)"})


def study_command(metrics: Dict, tuning: Optional[Dict],
                  convergence: Optional[Dict], chosen_exists: bool) -> str:
  """The study command that trains the runs `metrics` summarises: with
  --configs where they are not every configuration, --steps where they ran
  another count than the convergence command has chosen since, and
  --tuning='' where they were untuned though a tuning sweep's choice now
  exists (which the command would otherwise apply); runs of another step
  count or settings in a runs folder of their own, without the committed
  records (those of the default study's runs, which share the run
  folders' names)."""
  trained = trained_only(metrics)
  steps = sorted({int(v["step"]["mean"]) for v in trained.values()})
  configs, other = [], []
  if set(trained) != set(comparisons.CONFIGS):
    configs.append("--configs=" + ",".join(
        [n for n in comparisons.CONFIGS if n in trained]
        + sorted(n for n in trained if n not in comparisons.CONFIGS)))
  if len(steps) == 1 and steps[0] != (convergence or {}).get(
      "chosen_steps", steps[0]):
    other.append(f"--steps={steps[0]}")
  if not tuning and chosen_exists:
    other.append("--tuning=''")
  if other:  # other runs: a folder of their own, not the default's records
    other += [f"--runs=runs/study_{'_'.join(map(str, steps))}"
              + ("_untuned" if not tuning else ""), "--records=''"]
  return " ".join([STUDY_COMMAND] + configs + other)


def note_study_block(metrics: Dict, rows: List[Dict],
                     tuning: Optional[Dict] = None,
                     convergence: Optional[Dict] = None,
                     plot: bool = False, stack: str = "",
                     command: str = STUDY_COMMAND,
                     before_after_line: str = "") -> str:
  return "\n".join([
      f"`{command}` trains "
      + ("every alphabet-trained configuration" if command == STUDY_COMMAND
         else "the study's configurations") + " for each seed" + (
          " (its flags: where the study's configurations, step count or "
          "settings differ from the defaults, which the convergence and "
          "tuning commands have chosen since)"
          if command != STUDY_COMMAND else "")
      + f"; the finished study's {study_cost(metrics)}. "
      "`--summary-only` rewrites results/ from the finished runs (or their "
      "records in results/records/) and refuses to replace the tables of "
      "more runs than it finds. "
      "Unseen alphabets, mean ± sd over n seeds, each in the space its method "
      "trains (every column and configuration: `results/summary.md`; every "
      "paired difference: `results/study_paired.md`"
      + (", drawn in `results/study_paired.png`" if plot else "") + "):",
      "",
      study_table(metrics), "",
      "*ratio*: the note's metric on its rotation groups (mean distance "
      "between groups of different alphabets over that of the same "
      "alphabet); *dc recall@1*: whether a group of an alphabet's characters "
      "finds the group of its other characters (5 or all drawings per "
      "group); *20-way 1-shot* over characters; *Lake error* on Lake's 20 "
      "one-shot runs, lower is better (`docs/evaluation.md`)"
      + ("; *near ceiling for centroid groups*: with every drawing pooled, "
         "the untrained encoder's centroid groups already score "
         f"{NEAR_CEILING} or more (its row), so the column separates "
         "centroid-group encoders little (medoid groups: their rows)"
         if near_ceiling(metrics) else "") + "." + (
             " The related system chosen "
             f"on validation: of {_related_candidates(metrics)}, "
             f"{_related_how(metrics)} (recall@1 at 5 "
             "drawings on the held-out characters of the training "
             "alphabets; the unseen alphabets choose nothing): a choice of "
             "row, not a measured "
             "ranking (another may lead on these unseen metrics: every row "
             "is in `results/summary.md`)."
             if related_chosen_on_validation(metrics) else ""), "",
      " ".join(filter(None, [scope(metrics, tuning, convergence), stack,
                             before_after_line])),
      "", answer(metrics, rows, tuning)]) + "\n"


def config_cost(name: str, metrics: Dict,
                tuning: Optional[Dict] = None) -> Optional[str]:
  """The cost paragraph of configs/NAME.py's docstring, or None when the
  study has no run of it; where the tuning sweep chose its settings, the
  paragraph names them and their sweep table."""
  v = trained_only(metrics).get(name)
  if not v:
    return None
  tuned = ""
  if tuning and name in tuning:
    settings = tuning[name]["settings"]
    steps = tuning[name].get("steps")
    swept = tuning[name].get("swept") or (
        _swept_fields(name, steps) if steps else None)
    swept = list(settings) if swept is None else swept  # not known: all
    held = sorted(k for k in settings if k not in swept)
    chosen = ", ".join(f"{k} = {settings[k]:g}" for k in sorted(swept)
                       if k in settings)
    fixed = ", ".join(f"{k} = {settings[k]:g}" for k in held)
    tuned = (" Chosen on validation (projects.group_note.tune): "
             + (chosen or "nothing varied") + (
                 f" ({fixed}: the sweep did not vary "
                 f"{'it' if len(held) == 1 else 'them'})" if held else "")
             + f"; the sweep: results/tuning/{name}.md.")
  command = study.main_command(name, 0, study.Settings(int(v["step"]["mean"])),
                               tuning)
  return (f"Cost (the note's study, `python -m projects.group_note.study`, "
          f"at its own step count, not the command above's; "
          f"results/study_metrics.json): {int(v['step']['mean'])} steps "
          f"trained in {v['paced_train_seconds']['mean']:.0f} s (paced) and "
          f"evaluated in {v['eval_seconds']['mean']:.0f} s (as those runs' "
          f"code evaluated; docs/performance.md times today's) on "
          "the 2-core CPU, " + (f"mean of {v['step']['n']} seeds"
                                if v['step']['n'] != 1 else "one seed")
          + ". Its row: "
          f"results/summary.md; its comparisons: "
          f"results/study_paired.md.{tuned}\n"
          "One of its runs as the study trained it (its seed 0):\n"
          + _shell_lines(command))


def _shell_lines(args: Sequence[str], width: int = 79) -> str:
  """A command as indented shell lines of at most `width` characters,
  continued with a backslash."""
  lines, line = [], "  " + args[0]
  for arg in args[1:]:
    if len(line) + 1 + len(arg) + 2 > width:
      lines.append(line + " \\")
      line = "    " + arg
    else:
      line += " " + arg
  return "\n".join(lines + [line])


def costs_block(metrics: Dict) -> str:
  lines = ["| config | seeds | steps | train s (paced) | train s (wall) | "
           "eval s |", "|---|---|---|---|---|---|"]
  for name in sorted(trained_only(metrics)):
    v = metrics[name]
    lines.append(f"| `{name}` | {v['step']['n']} | {v['step']['mean']:.0f} | "
                 f"{_cell(v['paced_train_seconds'], 0)} | "
                 f"{_cell(v['train_seconds'], 0)} | "
                 f"{_cell(v['eval_seconds'], 0)} |")
  return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# Writing the pages.
# --------------------------------------------------------------------------
def replace_block(text: str, marker: str, block: str, path: str) -> str:
  begin, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
  pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), re.S)
  if not pattern.search(text):
    raise SystemExit(f"{path} has no {begin} ... {end} block.")
  return pattern.sub(lambda _: f"{begin}\n{block}{end}", text)


COST_PARAGRAPH = re.compile(r"Cost \(the note's study[^\n]*(?:\n(?!\"\"\")[^\n]+)*")


def _wrap(text: str, width: int = 79) -> str:
  """Lines of at most width characters, a number kept with its unit."""
  import textwrap  # pylint: disable=g-import-not-at-top
  glued = re.sub(r"(\d) (s\b)", "\\1\x00\\2", text)
  return "\n".join(textwrap.wrap(glued, width)).replace("\x00", " ")


def rewrite_docstring(source: str, paragraph: Optional[str],
                      path: str) -> str:
  """A config file with its cost paragraph rewritten, or added as the
  module docstring's last paragraph the first time the study has a run of
  it, or taken out when the study in results/ has none (a study part way,
  whose tables replaced another's: the paragraph would cite runs that
  results/ no longer holds)."""
  if paragraph is None:
    return re.sub(r"\n*" + COST_PARAGRAPH.pattern, "", source, count=1)
  if COST_PARAGRAPH.search(source):
    return COST_PARAGRAPH.sub(lambda _: _wrap_cost(paragraph), source,
                              count=1)
  if not source.startswith('"""') or source.find('"""', 3) < 0:
    raise SystemExit(f"{path}: no module docstring to add the study's cost "
                     "paragraph to.")
  end = source.find('"""', 3)
  body = source[:end].rstrip("\n")
  return body + "\n\n" + _wrap_cost(paragraph) + "\n" + source[end:]


def _wrap_cost(paragraph: str) -> str:
  """The cost paragraph's prose wrapped (its first line) and its command
  lines (config_cost's, already shell lines) as they are."""
  prose, *rest = paragraph.split("\n", 1)
  return "\n".join([_wrap(prose)] + rest)


INTERACTING = "interacting items"
# The question's configurations may be studied before the whole study, into
# results/INTERACTING_PART (projects/group_note/README.md gives the command);
# that study's paired table then has Benjamini-Hochberg families of its own
# (its q-values, and so a verdict near q = 0.05, may differ from the whole
# study's, whose table has more rows).
INTERACTING_PART = "interacting_items"
# The set transformer's own floor: its untrained head pools otherwise than
# the centroid (an untrained attention pooling gives the centroid's numbers).
INTERACTING_UNTRAINED = (("gi_set_transformer", "set-transformer"),)


def interacting_configs() -> List[str]:
  return sorted({n for q, a, b in COMPARISONS if q == INTERACTING
                 for n in (a, b)})


def interacting_source(results: str = RESULTS) -> str:
  """The results folder the interacting-items finding is read from: the
  partial study's results/interacting_items where there is one, until
  results/ holds each configuration the question compares at the same
  step count and settings with at least as many seeds; results/
  otherwise."""
  part = os.path.join(results, INTERACTING_PART)
  if not os.path.exists(os.path.join(part, "study_paired.md")):
    return results

  def runs(folder):  # name -> (seeds, steps, tuned settings)
    metrics, tuned = load(folder)[0], load_tuning(folder) or {}
    step = lambda n: metrics.get(n, {}).get("step", {})
    return {n: (step(n).get("n", 0), step(n).get("mean"),
                (tuned.get(n) or {}).get("settings"))
            for n in interacting_configs()}

  whole, partial = runs(results), runs(part)
  if all(whole[n][0] >= max(partial[n][0], 1) and
         whole[n][1:] == partial[n][1:] for n in interacting_configs()):
    return results
  return part


def set_transformers() -> Dict[str, object]:
  """The question's configurations whose items interact (pooling
  "set_transformer"): {name: its config}."""
  configs = {n: _config(n) for n in interacting_configs()}
  return {n: c for n, c in configs.items()
          if c is not None and c.loss.pooling == "set_transformer"}


def _set_transformer_caveats() -> str:
  """What the set-transformer rows leave untested, read from their configs:
  the block they trained, the group size they saw, their validation
  curves, and what the near-ceiling label is about."""
  configs = set_transformers()
  if not configs:
    return ""
  blocks = sorted({c.loss.set_transformer.block.upper()
                   for c in configs.values()})
  sizes = sorted({c.data.items_per_group for c in configs.values()})
  curves = [n for n, c in configs.items() if not c.eval.every]
  text = (f" The set transformers trained {_names(blocks)} blocks"
          + (" only (`config.loss.set_transformer.block`); the other block "
             "was not studied." if len(blocks) == 1 else ".")
          + " They trained on groups of "
          f"{_names([str(s) for s in sizes])} drawings (`data.items_per_group`), "
          "so recall@1 at 5 drawings is inside that size and the "
          "all-drawings column and the ratio pool groups of tens to "
          "hundreds, a size training never showed them (\"Set sizes outside "
          "training\" above). \"Near ceiling for centroid groups\" labels "
          "the metric (the untrained encoder's centroid groups already "
          "score near its ceiling), not these rows.")
  if curves:
    text += (f" {_names(sorted(curves))} recorded no validation curve "
             "(`eval.every` 0), so nothing shows whether they converged at "
             "the step count.")
  return text


def _tally_text(tally: Dict, pairs: int) -> str:
  """One line over the question's comparisons: per metric, in how many the
  set transformer was measurably better, worse, neither, or untested."""
  words = {"better": "measurably better", "worse": "measurably worse",
           "none": "no difference measured", "untested": "untested"}
  return ("In short, over the " + str(pairs) + " comparisons a − b "
          "below: " + "; ".join(
              SHORT[label] + ": " + ", ".join(
                  f"{words[k]} in {count[k]}" for k in words if count[k])
              for label, count in tally.items()) + ".")


def interacting_items_block(metrics: Dict, rows: List[Dict],
                            tuning: Optional[Dict] = None,
                            source: str = "results",
                            convergence: Optional[Dict] = None,
                            plot: bool = False) -> str:
  """docs/set_transformer.md's finding: each comparison of the question
  "interacting items" (a set transformer against its centroid and its
  attention configuration) on the metrics that discriminate, from the
  paired rows of the study in `source` (a folder named relative to the
  repository): measured better or worse (n >= 3, q < 0.05 where the table
  has q-values), no difference measured, or untested."""
  pairs = [(a, b) for q, a, b in COMPARISONS if q == INTERACTING]
  missing = sorted({n for pair in pairs for n in pair if n not in metrics})
  if missing:
    return (f"Not measured yet: the study has no runs of {_names(missing)} "
            f"(`{STUDY_COMMAND}` trains them after the tuning sweep).\n")
  lines = []
  ceiling = near_ceiling(metrics)
  tally = {label: collections.Counter() for label in
           DISCRIMINATING + (RETRIEVAL_ALL,)}  # label -> verdict -> pairs
  for a, b in pairs:
    parts = []
    for label in DISCRIMINATING + (RETRIEVAL_ALL,):
      name = SHORT[label] + (" (near ceiling for centroid groups)"
                             if label == RETRIEVAL_ALL and ceiling else "")
      found = _row(rows, a, b, label)
      if found is None:  # no seed with a finite value for both
        parts.append(f"{name}: not compared (no paired seed with "
                     "both values)")
        continue
      n = found[0]["n"]
      if n < 3:
        kind, verdict = "untested", f"untested (n = {n} < 3)"
      elif _untestable(found[0]):
        kind, verdict = "untested", (
            "untested: the same difference at every seed, no spread to "
            f"test ({_diff_text(rows, a, b, label)})")
      elif beats(rows, a, b, label):
        kind, verdict = "better", (
            f"measurably better, {_diff_text(rows, a, b, label)}")
      elif beats(rows, b, a, label):
        kind, verdict = "worse", (
            f"measurably worse, {_diff_text(rows, a, b, label)}")
      else:
        kind, verdict = "none", (f"no difference measured at n = {n} "
                                 f"({_diff_text(rows, a, b, label)})")
      tally[label][kind] += 1
      parts.append(f"{name}: {verdict}")
    lines.append(f"- **{a}** − {b}: " + "; ".join(parts) + ".")
  family = ("the study's paired table" if source == "results" else
            "the paired table of the study of "
            f"{_names(sorted(trained_only(metrics)))} "
            "alone, ahead of the whole study")
  rule = ("measured: n ≥ 3 seeds and a Benjamini–Hochberg q-value below "
          f"0.05 over the comparisons between configurations of {family}"
          if has_qvalues(rows) else
          "measured: n ≥ 3 seeds and a 95% interval excluding 0, with no "
          "multiplicity control (the paired table predates q-values)")
  steps = sorted({int(v["step"]["mean"]) for v in trained_only(
      metrics).values()})
  chose = (convergence or {}).get("per_config", {})
  caveats = (
      "What the rows can and cannot say: 20-way 1-shot classifies with "
      "centroid prototypes of item embeddings and Lake's error with the "
      "nearest item, whatever the group encoder, so there they compare the "
      "item encoders the losses trained, not the pooling; recall@1 at 5 and "
      "at all drawings pools with each configuration's own encoder."
      + (f" The step count came from convergence runs of {_names(sorted(chose))}"
         " at the shared defaults, not of the set transformers."
         if chose and steps == [convergence.get("chosen_steps")] and not
         set(set_transformers()) & set(chose) else "")
      + _set_transformer_caveats())
  return "\n".join(
      [scope(metrics, tuning, convergence) + " Unseen alphabets, mean ± sd "
       f"over n seeds, beside the floors (`{source}/summary.md`):", "",
       # No configuration here pools medoids: no medoid floors.
       means_table(metrics, interacting_configs(), {}, timed=False,
                   untrained_rows=UNTRAINED_ROWS + INTERACTING_UNTRAINED,
                   groups=("centroid", "set-transformer")),
       "",
       f"a − b paired by seed (`{source}/study_paired.md`"
       + (f", drawn in `{source}/study_paired.png`" if plot else "")
       + ", question "
       f"\"interacting items\"; {rule}):", "",
       _tally_text(tally, len(pairs)), ""] + lines
      + ["", caveats]) + "\n"


# Snell et al. (2017), Omniglot, Vinyals split, 1-shot and 5-shot.
PROTONET_PAPER = {"5way_1shot": 0.988, "5way_5shot": 0.997,
                  "20way_1shot": 0.960, "20way_5shot": 0.989}
PROTONET_RUN = os.path.join("protonet", "protonet_final")
# What of Vinyals test was read before the reported run (results/NOTES.md).
PROTONET_HISTORY = (
    "What test had seen before: this recipe (its episodes, Adam's learning "
    "rate and step decay, its 8000 steps) was first picked on Vinyals test "
    "curves, by seed-0 runs that read test during training. On val "
    "(2026-11-29) only its episode shape was compared again, at 500 steps, "
    "against the paper's 60-way 5-shot episodes, and won; its learning "
    "rate, schedule and length were never chosen on val. Test was also "
    "read at the end of two 15-minute recipes trained on trainval (chosen "
    "on val for a time budget; not this recipe). Each reading is in "
    "results/NOTES.md (2026-11-29). Nothing was chosen after those "
    "readings, and the reported run is a fresh seed.")


def protonet_block(results: str = RESULTS) -> str:
  """ProtoNet's reported numbers, from the one reading of its `:final` run
  (results/protonet/protonet_final_metrics.json, and the config its
  checkpoint holds, _config.json), beside the paper's."""
  path = os.path.join(results, PROTONET_RUN + "_metrics.json")
  if not os.path.exists(path):
    return ("ProtoNet's reported run (`--config=configs/protonet.py:final`) "
            "has not been made yet: no number of it is reported.\n")
  with open(path) as f:
    res = json.load(f)
  with open(os.path.join(results, PROTONET_RUN + "_config.json")) as f:
    config = json.load(f)
  fewshot = res["eval"]["vinyals_test"]["fewshot"]
  from projects.group_note import pixels as pixels_lib  # pylint: disable=g-import-not-at-top
  floor_path = os.path.join(results, pixels_lib.PROTONET_FLOOR)
  pixels = {}
  if os.path.exists(floor_path):
    with open(floor_path) as f:
      pixels = json.load(f)
  pixels_size = (f"{pixels['image_size']} px" if "image_size" in pixels
                 else "not evaluated: `python -m projects.group_note.pixels "
                 "--protonet`")
  during = ("no evaluation during training" if not config["eval"]["every"]
            else f"evaluated every {config['eval']['every']} steps on "
            f"{config['data']['train_split']}'s evaluation splits")
  lines = [
      "ProtoNet's reported numbers: one reading of Vinyals test, at the end "
      f"of `--config=configs/protonet.py:final` ({res['step']} steps on "
      f"{config['data']['train_split']}, seed {config['seed']}, {during}; "
      "of the recipe, only its episode shape was chosen on Vinyals val, "
      "by runs trained on vinyals_train: the paragraph below), "
      f"{fewshot['20way_1shot'].get('episodes', 1000)} "
      f"episodes of {res.get('fewshot_queries', 15)} queries per class, mean "
      f"± 95% interval (`results/{PROTONET_RUN}_metrics.json`, "
      "`results/protonet/summary.md`), beside two floors read on the same "
      "episodes: the run's encoder at initialisation and raw pixels ("
      + (f"`results/{pixels_lib.PROTONET_FLOOR}`, " if pixels else "")
      + "`python -m projects.group_note.pixels --protonet`):", "",
      f"| Vinyals test | grouprep | its untrained encoder | raw pixels "
      f"({pixels_size}) | Snell et al. (2017) |", "|---|---|---|---|---|"]
  # The floors: the same run's encoder at initialisation, read on the same
  # episodes (metrics.json's "untrained"), and raw pixels evaluated the
  # same way (projects.group_note.pixels --protonet); "–" where absent.
  floor = res.get("untrained", {}).get("vinyals_test", {}).get("fewshot", {})
  raw = pixels.get("eval", {}).get("vinyals_test", {}).get("fewshot", {})
  cell = lambda f: f"{f['mean']:.4f} ± {f['ci95']:.4f}" if f else "–"
  for key, paper in PROTONET_PAPER.items():
    ways, shots = key.split("_")
    lines.append(f"| {ways.replace('way', '')}-way {shots.replace('shot', '')}"
                 f"-shot | {cell(fewshot[key])} | {cell(floor.get(key))} | "
                 f"{cell(raw.get(key))} | {paper:.3f} |")
  lines += ["", PROTONET_HISTORY]
  return "\n".join(lines) + "\n"


def load_tuning(results: str = RESULTS,
                chosen: Optional[str] = None) -> Optional[Dict]:
  """{name: {"settings", "steps"[, "seconds", "swept"]}} of the
  configurations the study trained at tuned settings
  (results/study_settings.json, which the study writes from what it
  applied; "seconds", the sweep's cost, and "swept", the fields it varied,
  from the tuning sweep's `chosen` file, default RESULTS/tuning/chosen.json,
  where it records them for the same choice); None for a study written
  before it, or untuned."""
  path = os.path.join(results, "study_settings.json")
  if not os.path.exists(path):
    return None
  with open(path) as f:
    written = json.load(f)
  chosen = chosen or os.path.join(results, "tuning", "chosen.json")
  sweeps = {}
  if os.path.exists(chosen):
    with open(chosen) as f:
      sweeps = json.load(f)
  tuned, steps = written.get("tuned") or {}, written.get("tuning_steps", {})
  out = {}
  for name, settings in tuned.items():
    out[name] = {"settings": settings, "steps": steps.get(name)}
    sweep = sweeps.get(name, {})
    if (sweep.get("settings"), sweep.get("steps")) == (settings,
                                                       steps.get(name)):
      # The sweep whose choice the study applied: its cost and what it
      # varied, as it recorded them.
      out[name].update({k: sweep[k] for k in ("seconds", "swept", "score",
                                              "runner_up_score")
                        if sweep.get(k) is not None})
  return out or None


# What results/NOTES.md records of the stack behind tables written before
# the study put its stacks in study_settings.json (the 2000-step study).
UNRECORDED_STACK = (
    "The study in `results/` predates the record of its stacks in "
    "`study_settings.json`: its runs were "
    "trained with jax/jaxlib 0.10.2 on Python 3.11, the jaxlib with the "
    "miscompile (it was what the install resolved then). The metrics of the "
    "README main job's 500-step checkpoint (not a study run) were checked "
    "against the same evaluation with the YNNPACK reduce fusion switched "
    "off and agreed within 1e-5; still, the study's numbers belong to that "
    "stack.")


def _stacks(results: str) -> Dict[str, int]:
  """study_settings.json's {stack: runs}; {} where it predates them."""
  path = os.path.join(results, "study_settings.json")
  if not os.path.exists(path):
    return {}
  with open(path) as f:
    return json.load(f).get("stacks") or {}


def study_stack_block(results: str = RESULTS) -> str:
  """docs/toolchain.md's sentence on the stacks that trained the study in
  results/ (study_settings.json's, as the study counted them)."""
  stacks = _stacks(results)
  if not stacks:
    return UNRECORDED_STACK + "\n"
  return report.describe_stacks(
      stacks, lead="The study in `results/` was trained on") + "\n"


def readme_stack(results: str = RESULTS) -> str:
  """The README's short account of the stack that trained the study (the
  detail: docs/toolchain.md's study-stack block)."""
  stacks = _stacks(results)
  if not stacks:
    return ("Trained with jax/jaxlib 0.10.2, the jaxlib later excluded for "
            "a miscompile (`docs/toolchain.md`).")
  return report.describe_stacks(
      stacks, lead="Trained (details: `docs/toolchain.md`) on")


def load_convergence(results: str = RESULTS) -> Optional[Dict]:
  """The convergence command's choice (results/convergence_schedules.json),
  None before it has run."""
  path = os.path.join(results, "convergence_schedules.json")
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return json.load(f)


def _drawn(folder: str) -> bool:
  """Whether the study that wrote folder drew its paired table
  (study_paired.png, projects.group_note.plots.plot_paired)."""
  return os.path.exists(os.path.join(folder, "study_paired.png"))


def outputs(root: str = ROOT, results: str = RESULTS
            ) -> Dict[str, Optional[str]]:
  """{path: its text with the generated parts as results/ gives them; None
  for a generated file that results/ no longer supports (removed)}."""
  metrics, rows = load(results)
  chosen = os.path.join(results, "tuning", "chosen.json")
  tuning = load_tuning(results, chosen)
  convergence = load_convergence(results)
  out = {}
  before_after_text, before_after_line = before_after.output(results)
  readme = os.path.join(root, "README.md")
  out[readme] = replace_block(open(readme).read(), "note-study",
                              note_study_block(
                                  metrics, rows, tuning, convergence,
                                  _drawn(results), readme_stack(results),
                                  study_command(metrics, tuning, convergence,
                                                os.path.exists(chosen)),
                                  before_after_line),
                              readme)
  set_transformer = os.path.join(root, "docs", "set_transformer.md")
  source = interacting_source(results)
  part_metrics, part_rows = load(source) if source != results else (metrics,
                                                                    rows)
  out[set_transformer] = replace_block(
      open(set_transformer).read(), "interacting-items",
      interacting_items_block(
          part_metrics, part_rows, load_tuning(source, chosen),
          "results" if source == results else
          "results/" + os.path.relpath(source, results), convergence,
          _drawn(source)),
      set_transformer)
  configs = os.path.join(root, "docs", "configs.md")
  out[configs] = replace_block(
      replace_block(open(configs).read(), "study-costs", costs_block(metrics),
                    configs), "protonet-final", protonet_block(results),
      configs)
  toolchain = os.path.join(root, "docs", "toolchain.md")
  out[toolchain] = replace_block(open(toolchain).read(), "study-stack",
                                 study_stack_block(results), toolchain)
  # None: the file must not exist (results/ holds no study beside another).
  out[os.path.join(results, before_after.OUT)] = before_after_text
  config_dir = os.path.join(root, "configs")
  for fname in sorted(os.listdir(config_dir)):
    name, ext = os.path.splitext(fname)
    if ext != ".py" or name in ("__init__", "base"):
      continue
    path = os.path.join(config_dir, fname)
    out[path] = rewrite_docstring(open(path).read(),
                                  config_cost(name, metrics, tuning), path)
  return out


def main(argv: Sequence[str] = None) -> int:
  p = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--check", action="store_true")
  args = p.parse_args(argv)
  stale = []
  for path, text in outputs().items():
    if text is None:  # an output that results/ no longer supports
      if os.path.exists(path):
        stale.append(os.path.relpath(path, ROOT))
        if not args.check:
          os.remove(path)
      continue
    if os.path.exists(path):
      with open(path) as f:
        if f.read() == text:
          continue
    stale.append(os.path.relpath(path, ROOT))
    if not args.check:
      with open(path, "w") as f:
        f.write(text)
  if args.check and stale:
    print("Differs from results/: " + ", ".join(stale)
          + "; run python -m projects.group_note.docs.")
    return 1
  return 0


if __name__ == "__main__":
  sys.exit(main())
