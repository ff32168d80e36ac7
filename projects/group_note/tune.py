"""An equal tuning budget for every study configuration, on validation.

  python -m projects.group_note.tune

The budget, fixed here before the sweep: BUDGET_STEPS = 12,000 training
steps per configuration, spent at the study's step count (the count
projects.group_note.convergence chose, else 2000), so every setting is
chosen at the length it is then trained at. The grid, in order
(`grid`): LEARNING_RATES (3e-4, 1e-3, 3e-3) with the method's own key
parameter (KEY_PARAMETERS, chosen by loss.name, so a variant such as the
prototype candidates tunes its loss's τ, not its own momentum: the InfoNCE
temperature τ for group–item, group–group and item–item; the triplet margin; SMoG's
prototype momentum β; GroupFace's λ; the Group Loss's prior temperature T)
at its configs/NAME.py default, then the same three rates at the
parameter's second value; a configuration trains the first
BUDGET_STEPS // steps points of it: all six at 2000 steps, the three
learning rates at the default parameter at 4000 (the learning rate is the
one setting every method shares). At 4000 steps, the count convergence
chose, the budget reaches no second value of any key parameter: every
method is tuned on its learning rate alone, its key parameter at its
default (`swept` says which fields a sweep varied; chosen.json records
them, and the docs' scope says so). A method without a key parameter gets
the three learning rates alone. One seed (TUNING_SEED, which the study does not use:
its runs are then fresh draws at the chosen settings, not the sweep's
winner trained again, whose validation scores are the best of several by
selection), scored by ONE validation metric named before the sweep (SCORE:
disjoint-character recall@1 at 5 drawings on the held-out characters of
the training alphabets). The best score wins; ties go to the earlier grid
point (the default parameter, then the lower learning rate). A diverged
run (a non-finite loss: grouprep.sweep records it in WORKDIR/diverged.json
and does not retry it) scores NaN and ranks last; a configuration whose
every setting diverged gets no choice, and the study refuses to train it.
One seed's score has a seed spread (the study's sd of the same metric, up
to ~0.04 in the 2000-step study): a setting chosen by a smaller margin is
the best of one draw, not a measured best.

How the budget came to be (RULE_HISTORY): the sweep first ran at the
study's count capped at 2000 steps, six points each, so at 4000 a setting
chosen at 2000 would have been trained at twice its length, and not with
the same effect for every method (the learning rate goes with the
schedule's length, SMoG's β with the number of updates). A review before
any sweep run (2026-12-05, while the convergence runs were finishing)
made the budget one of steps, spent at the study's length: the same
228,000 steps for 19 configurations whatever the count.

A sweep run evaluates the score's split and evaluator alone
(config.eval.splits, config.eval.only): it reads no unseen alphabet and none
of Lake's runs, and its score is the one a full evaluation gives (measured:
0.2783 both ways on convergence's 1000-step gi_centroid seed 0).

Cost (defaults): 19 configurations × 12,000 steps = 228,000 steps (114
runs of 2000 steps, or 57 of 4000); on the 2-core CPU at SECONDS_PER_STEP
a step (256-image batches) plus ~10 s of evaluation a run (9.9 s for both
encoders, measured beside a training run on the same two cores)
(`cost_hours`; `python -m projects.group_note.progress` gives the hours
left at the sweep's own measured pace).

Each (config, setting) trains into RUNS/CONFIG/SETTING/seedS (default
runs/tune) through grouprep.sweep: finished runs are skipped, an
interrupted one resumes, a failed one is named (exit status 1) and the
others go on. Writes results/tuning/NAME.md (the sweep table) for each
configuration and results/tuning/chosen.json ({name: {"settings": {dotted
field: value}, "score", ...}}) for the configurations whose every grid
point has finished; projects.group_note.study then trains each
configuration at its chosen settings.
"""
import argparse
import itertools
import json
import math
import os
import sys
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from grouprep import report
from grouprep import sweep
from projects.group_note import study
from projects.group_note.comparisons import CONFIGS, VALIDATION_SPLIT

LEARNING_RATES = (3e-4, 1e-3, 3e-3)
# loss.name -> (the key parameter's dotted field, its two values: the
# configs' default first).
KEY_PARAMETERS = {
    "group_item": ("loss.temperature", (0.1, 0.05)),
    "group_group": ("loss.temperature", (0.1, 0.05)),
    "item_item": ("loss.temperature", (0.1, 0.05)),
    "triplet": ("loss.margin", (0.2, 0.5)),
    "smog": ("loss.prototype_momentum", (0.99, 0.9)),
    "groupface": ("loss.groupface_lambda", (0.1, 0.3)),
    "group_loss": ("loss.prior_temperature", (1.0, 2.0)),
}
SCORE = ("held-out dc recall@1, 5 drawings",
         "heldout_characters.disjoint_characters.size_curve.5.recall_at_1.mean")
assert SCORE[1].startswith(VALIDATION_SPLIT + ".")  # chosen on validation
# Outside the study's seeds (0, 1, 2, ...; study.main refuses an overlap).
TUNING_SEED = 100
# Training steps per configuration, spent at the study's step count.
BUDGET_STEPS = 12_000
RULE_HISTORY = (
    "The sweep first ran at the study's step count capped at 2000, six "
    "points each; before any sweep run it became a budget of "
    f"{BUDGET_STEPS:,} steps per configuration spent at the study's count, "
    "so a setting is chosen at the length it is trained at.")
# Where each finished run's record is kept (committed; grouprep.sweep).
RECORDS = os.path.join("results", "records", "tune")
SECONDS_PER_STEP = 0.29  # 2-core CPU, 256-image batches
EVAL_SECONDS = 10  # the score's split and evaluator alone (docstring)


def grid(config, steps: Optional[int] = None) -> List[Dict[str, float]]:
  """One configuration's budget at `steps` a run: [{dotted field: value}],
  the first BUDGET_STEPS // steps points (every point when steps is None)
  of LEARNING_RATES at the key parameter's default, then at its second
  value; ties are broken in this order."""
  lrs = [{"train.learning_rate": lr} for lr in LEARNING_RATES]
  key = KEY_PARAMETERS.get(config.loss.name)
  points = lrs if key is None else [
      dict(lr, **{key[0]: v}) for v in key[1] for lr in lrs]
  return points if steps is None else points[:max(1, BUDGET_STEPS // steps)]


def swept(config, steps: Optional[int] = None) -> List[str]:
  """The dotted fields the budget varies at `steps` a run: at 4000 steps
  (three points) the learning rate alone, the key parameter staying at its
  configs/NAME.py default."""
  points = grid(config, steps)
  return [f for f in points[0] if len({p[f] for p in points}) > 1]


def tag(setting: Dict[str, float]) -> str:
  """A grid point's directory name: lr0.001_temperature0.05."""
  short = {"train.learning_rate": "lr"}
  return "_".join(f"{short.get(k, k.split('.')[-1])}{v:g}"
                  for k, v in setting.items())


def jobs(names: Sequence[str], steps: int,
         make_config: Callable = study.default_config
         ) -> List[Tuple[str, Dict]]:
  """[(NAME/TAG, setting)] of every configuration's grid at `steps` a run,
  name by name."""
  return [(f"{name}/{tag(s)}", s) for name in names
          for s in grid(make_config(name), steps)]


def run(names: Sequence[str], seed: int, runs: str, steps: int,
        make_config: Callable = study.default_config,
        runner: Callable = sweep.train_and_evaluate,
        workers: int = 1, records: Optional[str] = None,
        train: bool = True) -> List[str]:
  """Trains and evaluates every unfinished grid point; returns the failed
  ones. records, train: grouprep.sweep.run's."""
  points = dict(jobs(names, steps, make_config))
  settings = study.Settings(steps=steps, eval_every=0)

  def config_for(job, seed):
    name = job.split("/")[0]
    config = study.run_config(name, seed, settings, make_config,
                              {name: {"settings": points[job]}})
    # The score's split and evaluator alone: a sweep run reads no unseen
    # alphabet and none of Lake's runs, and evaluates in seconds.
    split, evaluator = SCORE[1].split(".")[:2]
    config.eval.splits, config.eval.only = (split,), (evaluator,)
    return config

  # A diverged grid point is a result (it scores NaN), not a failure.
  return sweep.run([(job, seed) for job in points], runs, steps, config_for,
                   runner, workers, diverged_ok=True, records=records,
                   train=train)


def finished(runs: str, name: str, seed: int, steps: int,
             make_config: Callable = study.default_config
             ) -> List[Tuple[Dict, Optional[Dict]]]:
  """[(setting, its metrics.json; {} where it diverged: a non-finite loss in
  training; None where unfinished)] of name's grid."""
  out = []
  for setting in grid(make_config(name), steps):
    wd = sweep.workdir(os.path.join(runs, name), tag(setting), seed)
    if sweep.finished(wd, steps):
      with open(os.path.join(wd, "metrics.json")) as f:
        out.append((setting, json.load(f)))
    else:
      out.append((setting, {} if sweep.diverged(wd, steps) else None))
  return out


def untrained_score(runs_of: Sequence[Tuple[Dict, Optional[Dict]]]
                    ) -> Optional[float]:
  """SCORE of the configuration's untrained encoder (the same for every
  grid point: one seed, one way of forming groups), read from the first
  finished run that evaluated it; None where none did."""
  for _, metrics in runs_of:
    v = report.get_dotted((metrics or {}).get("untrained", {}), SCORE[1])
    if v is not None:
      return float(v)
  return None


def score(metrics: Optional[Dict]) -> Optional[float]:
  """SCORE of one finished run (NaN: it diverged, or has no score); None
  while unfinished."""
  if metrics is None:
    return None
  v = report.get_dotted(metrics.get("eval", {}), SCORE[1])
  return float("nan") if v is None else float(v)


def scores(runs: str, name: str, seed: int, steps: int,
           make_config: Callable = study.default_config
           ) -> List[Tuple[Dict, Optional[float]]]:
  """[(setting, SCORE or None where unfinished; NaN where diverged: a
  non-finite loss in training, or no score in its metrics.json)]."""
  return [(setting, score(m))
          for setting, m in finished(runs, name, seed, steps, make_config)]


def best(scored: Sequence[Tuple[Dict, Optional[float]]]) -> Optional[int]:
  """The index of the best score (ties: the earlier point; NaN last), None
  while a point is unfinished or when every point diverged (nothing to
  choose: the study then refuses the configuration)."""
  if not scored or any(s is None for _, s in scored):
    return None
  if all(math.isnan(s) for _, s in scored):
    return None
  key = lambda i: -math.inf if math.isnan(scored[i][1]) else scored[i][1]
  return max(range(len(scored)), key=lambda i: (key(i), -i))


def markdown(name: str, scored, chosen: Optional[int], seed: int,
             steps: int, stacks: str = "",
             floor: Optional[float] = None) -> str:
  fields = list(scored[0][0]) if scored else []
  lines = [f"# Tuning {name} on validation", "",
           f"Written by `python -m projects.group_note.tune --seed={seed}` "
           f"({steps} steps per run, seed {seed}). Score, named before the "
           f"sweep: {SCORE[0]} (`{SCORE[1]}`), higher is better; ties go to "
           "the earlier row; NaN (a run that diverged, or one with no "
           "score) ranks last. Budget: the same for every configuration, "
           f"{len(scored)} settings × 1 seed × {steps} steps "
           f"= {len(scored) * steps} steps (at most {BUDGET_STEPS:,} steps a "
           "configuration at the study's step count; "
           "projects/group_note/tune.py says how the grid is cut). One "
           "seed: a setting that wins by less than the seed spread of the "
           "score is the best of one draw, not a measured best."
           + (f" {stacks}" if stacks else ""), "",
           "| " + " | ".join(fields + ["score", "chosen"]) + " |",
           "|" + "---|" * (len(fields) + 2)]
  if scored and all(s is not None and math.isnan(s) for _, s in scored):
    lines[4:4] = ["**Every setting diverged: nothing is chosen**, and the "
                  "study refuses this configuration until its grid or its "
                  "config changes.", ""]
  for i, (setting, score) in enumerate(scored):
    cell = "not finished" if score is None else (
        "NaN" if math.isnan(score) else f"{score:.3f}")
    lines.append("| " + " | ".join([f"{setting[f]:g}" for f in fields]
                                   + [cell, "**yes**" if i == chosen else ""])
                 + " |")
  if floor is not None:
    lines += ["", f"Its untrained encoder (seed {seed}, the same split and "
              f"evaluator) scores {floor:.3f}: the floor."]
    if chosen is not None and scored[chosen][1] <= floor:
      lines[-1] += (" The chosen setting scores at or under it at this one "
                    "seed (n = 1: no spread, no claim).")
  edges = at_the_edge(scored, chosen)
  if edges:
    lines += ["", "The chosen " + " and ".join(edges) + ": a better "
              "setting may lie outside the grid; the budget, fixed before "
              "the sweep, does not search there."]
  return "\n".join(lines) + "\n"


def at_the_edge(scored, chosen: Optional[int]) -> List[str]:
  """'FIELD (VALUE) is the grid's largest/smallest' for each field the
  chosen setting takes at an end of the values the grid tried; fields of
  one or two values are left out (any choice among two is at an end)."""
  if chosen is None:
    return []
  out = []
  for field, value in scored[chosen][0].items():
    tried = sorted({setting[field] for setting, _ in scored})
    if len(tried) > 2 and value in (tried[0], tried[-1]):
      end = "largest" if value == tried[-1] else "smallest"
      out.append(f"{field} ({value:g}) is the grid's {end}")
  return out


def write_outputs(runs: str, out_dir: str, names: Sequence[str], seed: int,
                  steps: int, make_config: Callable = study.default_config
                  ) -> List[str]:
  """results/tuning/NAME.md per configuration, chosen.json (the
  configurations whose sweep has finished; the choices chosen.json already
  holds for configurations outside `names` are kept, so a sweep run a few
  configurations at a time adds up) and scores.png (the sweeps of
  `names`)."""
  from projects.group_note import plots  # pylint: disable=g-import-not-at-top
  tuning = os.path.join(out_dir, "tuning")
  os.makedirs(tuning, exist_ok=True)
  chosen = {n: c for n, c in study.chosen_settings(
      os.path.join(tuning, "chosen.json")).items() if n not in names}
  written, sweeps, floors = [], {}, {}
  for name in names:
    runs_of = finished(runs, name, seed, steps, make_config)
    scored = [(setting, score(m)) for setting, m in runs_of]
    i = best(scored)
    sweeps[name] = (scored, i)
    stacks = report.stacks_sentence([m for _, m in runs_of if m])
    floor = floors[name] = untrained_score(runs_of)
    _write(os.path.join(tuning, f"{name}.md"),
           markdown(name, scored, i, seed, steps, stacks, floor))
    written.append(f"tuning/{name}.md")
    if i is not None:
      others = [v for j, (_, v) in enumerate(scored)
                if j != i and not math.isnan(v)]
      chosen[name] = {"settings": scored[i][0], "score": scored[i][1],
                      # How far the choice won by (one seed: docs weighs it
                      # against the study's seed spread at the choice).
                      "runner_up_score": max(others) if others else None,
                      "untrained_score": floor,
                      "metric": SCORE[1], "seed": seed, "steps": steps,
                      "swept": swept(make_config(name), steps),
                      "seconds": sweep_seconds(runs, name, seed, steps,
                                               make_config),
                      "table": f"results/tuning/{name}.md"}
  if chosen:
    _write(os.path.join(tuning, "chosen.json"),
           json.dumps(chosen, indent=1, sort_keys=True) + "\n")
    written.append("tuning/chosen.json")
  written += ["tuning/" + f for f in plots.plot_tuning(
      sweeps, SCORE[0], os.path.join(tuning, "scores.png"), floors)]
  return written


def sweep_seconds(runs: str, name: str, seed: int, steps: int,
                  make_config: Callable = study.default_config
                  ) -> Optional[float]:
  """What name's sweep took, training (each run's own clock, its last log
  row's wall_s) and evaluation summed over its grid; None where a run has
  no timing (a diverged run, a record without its log)."""
  total = 0.0
  for setting in grid(make_config(name), steps):
    wd = sweep.workdir(os.path.join(runs, name), tag(setting), seed)
    train = report.train_seconds(wd)
    try:
      with open(os.path.join(wd, "metrics.json")) as f:
        evaluate = json.load(f).get("eval_seconds")
    except FileNotFoundError:
      evaluate = None
    if train is None or evaluate is None:
      return None
    total += train + evaluate
  return total


def _write(path: str, text: str) -> None:
  with open(path + ".tmp", "w") as f:
    f.write(text)
  os.replace(path + ".tmp", path)


def cost_hours(names: Sequence[str], steps: int,
               make_config: Callable = study.default_config) -> float:
  runs = len(jobs(names, steps, make_config))
  return runs * (steps * SECONDS_PER_STEP + EVAL_SECONDS) / 3600


def main(argv=None) -> int:
  p = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--seed", type=int, default=TUNING_SEED)
  p.add_argument("--configs", default=",".join(CONFIGS))
  p.add_argument("--steps", type=int, default=None,
                 help="steps per run (default: the study's count); the "
                 f"grid is the first {BUDGET_STEPS} // STEPS points")
  sweep.add_flags(p, os.path.join("runs", "tune"), RECORDS,
                  "the tables and chosen.json")
  args = p.parse_args(argv)
  names = study.config_names(p, args.configs)
  steps, source = study.step_count(
      args.steps, os.path.join(args.out, "convergence_schedules.json"))
  print(f"{steps} steps per run ({source}).", flush=True)
  if not args.summary_only:
    print(f"{len(jobs(names, steps))} runs × {steps} steps, about "
          f"{cost_hours(names, steps):.1f} h on a 2-core CPU.", flush=True)
    study.prepare_to_train()
  failed = run(names, args.seed, args.runs, steps, workers=args.workers,
               records=args.records or None, train=not args.summary_only)
  written = write_outputs(args.runs, args.out, names, args.seed, steps)
  return sweep.exit_status(written, args.out, failed)


if __name__ == "__main__":
  sys.exit(main())
