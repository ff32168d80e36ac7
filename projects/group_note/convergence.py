"""How many steps the study trains: the note's four at several step counts,
each its own run with its own cosine schedule (config.train.num_steps = S,
so the learning rate reaches 0 at S), read on the validation split (the
held-out characters of the training alphabets), and evaluated there alone
(`run_config`: no unseen alphabet, none of Lake's runs).

  python -m projects.group_note.convergence --steps=1000,2000,4000 --seeds=0,1,2

Why separate runs: a cosine schedule ends at learning rate 0, so the last
stretch of one run's curve flattens by construction; only a run scheduled
for more steps says whether more training helps.

The rule (STEP_RULE): for each configuration, the smallest step count S
whose every validation metric (VALIDATION, all higher is better) has a
mean at every longer count that exceeds S's mean by no more than the seed
sd at that longer count; the study uses the largest of the four
configurations' choices (none is cut short). A configuration still
improving at every count gets the largest count, marked "still improving".
RULE_HISTORY says how it came to be: amended on a review's point (1000
level with 2000 says nothing if 4000 is far above both).

Cost (defaults): 4 configurations × 3 step counts × 3 seeds = 36 runs,
4 × 3 × (1000 + 2000 + 4000) = 84,000 steps; on the 2-core CPU at ~0.29 s a
step (16 × 2 × 8 = 256-image batches) plus ~5 s of evaluation a run (the
validation split alone; 3.1 and 5.5 s measured), about 6.8 h.

Each (config, S, seed) trains into RUNS/stepsS/CONFIG/seedSEED (default
runs/convergence) through grouprep.sweep: a finished run is skipped, an
interrupted one resumes, a failed one is named and the others go on (the
exit status is then 1), so the same command continues a stopped sweep.
Writes into --out (default results/): convergence_schedules.md (the table,
the rule and the chosen count), convergence_schedules.json (the chosen
count, which projects.group_note.study and .tune then use) and
convergence_schedules.png (a panel per metric, a line per configuration,
bars = sd over seeds).
"""
import argparse
import json
import os
import sys
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from grouprep import report
from grouprep import sweep
from grouprep.stats import mean_sd
from projects.group_note import study
from projects.group_note.comparisons import NOTE_FOUR

# The validation metrics the rule reads (label, path in metrics.json's
# "eval"); higher is better for each.
VALIDATION = (
    ("held-out ratio", "heldout_characters.distance.ratio"),
    ("held-out dc recall@1, 5 drawings",
     "heldout_characters.disjoint_characters.size_curve.5.recall_at_1.mean"),
    ("held-out dc recall@1, all drawings",
     "heldout_characters.disjoint_characters.size_curve.all.recall_at_1.mean"),
    ("held-out 20-way 1-shot", "heldout_characters.fewshot.20way_1shot.mean"),
)
STEP_RULE = (
    "for each configuration, the smallest step count whose every validation "
    "metric's mean at every longer count exceeds its own by no more than "
    "the seed sd at that longer count; the study uses the largest of the "
    "configurations' choices")
RULE_HISTORY = (
    "Fixed in code before the runs, it first compared each count with the "
    "next longer one alone; it was amended to every longer count when 20 "
    "of the 36 runs had finished, before this table was first written (it "
    "never picks a smaller count than the first rule). That first attempt's "
    "runs (32 of 36 finished by then) were lost with their machine before "
    "any table was written; every run behind this table was trained afresh "
    "after the amendment.")
STEPS = (1000, 2000, 4000)
# Where each finished run's record is kept (committed; grouprep.sweep).
RECORDS = os.path.join("results", "records", "convergence")
SECONDS_PER_STEP = 0.29  # 2-core CPU, 256-image batches
EVAL_SECONDS = 5  # the validation split alone (run_config)


def runs_dir(runs: str, steps: int) -> str:
  return os.path.join(runs, f"steps{steps}")


def run(names: Sequence[str], step_counts: Sequence[int],
        seeds: Sequence[int], runs: str,
        make_config: Callable = study.default_config,
        runner: Callable = sweep.train_and_evaluate,
        workers: int = 1, records: Optional[str] = None,
        train: bool = True) -> List[str]:
  """Trains and evaluates every unfinished (step count, name, seed),
  shortest schedules first, seed by seed; returns the failed runs.
  records, train: grouprep.sweep.run's, RECORDS/stepsS for each count."""
  failed = []
  for steps in sorted(step_counts):
    settings = study.Settings(steps=steps, eval_every=0)
    failed += [f"steps={steps} {f}" for f in sweep.run(
        sweep.order(names, seeds, seed_major=names), runs_dir(runs, steps),
        steps, lambda name, seed, settings=settings: run_config(
            name, seed, settings, make_config), runner, workers,
        records=records and runs_dir(records, steps), train=train)]
  return failed


def run_config(name: str, seed: int, settings, make_config: Callable):
  """A convergence run: the study's config at settings.steps, evaluated on
  what VALIDATION reads alone (the held-out characters; no unseen alphabet,
  none of Lake's runs: nothing here can be chosen on them)."""
  config = study.run_config(name, seed, settings, make_config)
  splits = {path.split(".")[0] for _, path in VALIDATION}
  evaluators = {path.split(".")[1] for _, path in VALIDATION}
  with config.unlocked():
    config.eval.splits = tuple(sorted(splits))
    config.eval.only = tuple(sorted(evaluators))
  return config


def _value(result: Dict, path: str) -> Optional[float]:
  v = report.get_dotted(result.get("eval", {}), path)
  return None if v is None else float(v)


def load(runs: str, names: Sequence[str], step_counts: Sequence[int],
         seeds: Sequence[int]) -> Dict[int, Dict[str, Dict[int, Dict]]]:
  """{steps: {name: {seed: metrics.json}}} of the finished runs."""
  return {steps: sweep.load_results(runs_dir(runs, steps), names, seeds, steps)
          for steps in step_counts}


def collect(loaded: Dict[int, Dict[str, Dict[int, Dict]]]
            ) -> Dict[str, Dict[str, Dict[int, Dict]]]:
  """{label: {name: {steps: mean_sd over the finished seeds}}} of every
  VALIDATION metric (NaN seeds left out); loaded: load's."""
  out = {label: {} for label, _ in VALIDATION}
  for steps, results in loaded.items():
    for name, by_seed in results.items():
      for label, path in VALIDATION:
        vals = [v for v in (_value(r, path) for r in by_seed.values())
                if v is not None and v == v]
        if vals:
          out[label].setdefault(name, {})[steps] = mean_sd(vals)
  return out


def choose(table: Dict[str, Dict[str, Dict[int, Dict]]], name: str,
           step_counts: Sequence[int]) -> Optional[Dict]:
  """STEP_RULE for one configuration: {"steps", "converged" (False: still
  improving at the largest count)}, or None where a count lacks a metric."""
  counts = sorted(step_counts)
  for label, _ in VALIDATION:
    if any(s not in table[label].get(name, {}) for s in counts):
      return None
  for i, s in enumerate(counts[:-1]):
    if all(_within_spread(table[label][name][s], table[label][name][longer])
           for label, _ in VALIDATION for longer in counts[i + 1:]):
      return {"steps": s, "converged": True}
  return {"steps": counts[-1], "converged": False}


def _spread(stat: Dict) -> float:
  """A count's seed sd (one seed, or no sd: no spread)."""
  return stat["sd"] if stat["n"] > 1 and stat["sd"] == stat["sd"] else 0.0


def _within_spread(at: Dict, nxt: Dict) -> bool:
  """Whether a longer count's mean exceeds this one's by no more than the
  longer count's seed sd (one seed: no spread, so any gain counts)."""
  return nxt["mean"] - at["mean"] <= _spread(nxt)


def study_choice(table, names: Sequence[str],
                 step_counts: Sequence[int]) -> Optional[Dict]:
  """The study's step count: the largest configuration's choice, with each
  configuration's and the curves a longer count lowered ("lower", `drops`);
  None until every configuration has every count."""
  choices = {n: choose(table, n, step_counts) for n in names}
  if not choices or any(c is None for c in choices.values()):
    return None
  steps = max(c["steps"] for c in choices.values())
  fell = drop_rows(table, names, step_counts)
  by_metric = {}
  for name, label, _ in fell:
    by_metric.setdefault(label, []).append(name)
  return {"chosen_steps": steps, "per_config": choices, "rule": STEP_RULE,
          "step_counts": sorted(step_counts), "lower": _drop_lines(fell),
          "lower_by_metric": by_metric}


def drop_rows(table, names: Sequence[str], step_counts: Sequence[int]
              ) -> List[Tuple[str, str, Dict[int, float]]]:
  """(name, validation label, {steps: mean}) of each curve whose mean at
  some longer count is below a shorter count's by more than the longer
  count's seed sd (the mirror of the rule's spread), in VALIDATION's order:
  STEP_RULE reads gains only, so a longer schedule that costs a metric is
  said, not hidden by the choice."""
  counts, out = sorted(step_counts), []
  for label, _ in VALIDATION:
    for name in names:
      by_steps = table[label].get(name, {})
      have = [s for s in counts if s in by_steps]
      if any(by_steps[s]["mean"] - by_steps[longer]["mean"] >
             _spread(by_steps[longer])
             for i, s in enumerate(have) for longer in have[i + 1:]):
        out.append((name, label, {s: by_steps[s]["mean"] for s in have}))
  return out


def drops(table, names: Sequence[str], step_counts: Sequence[int]
          ) -> List[str]:
  """drop_rows as lines: "NAME's LABEL m at s, m at s, ..."."""
  return _drop_lines(drop_rows(table, names, step_counts))


def _drop_lines(rows) -> List[str]:
  return [f"{name}'s {label} " + ", ".join(
      f"{mean:.3f} at {s}" for s, mean in means.items())
          for name, label, means in rows]


def markdown(table, names: Sequence[str], step_counts: Sequence[int],
             seeds: Sequence[int], choice: Optional[Dict],
             complete: bool = False, stacks: str = "") -> str:
  counts = sorted(step_counts)
  lines = [
      "# How many steps: separately scheduled runs", "",
      "Written by `python -m projects.group_note.convergence --steps="
      f"{','.join(map(str, counts))} --seeds={','.join(map(str, seeds))}`. "
      "Each step count is its own run with its own cosine schedule "
      "(learning rate 0 at its last step); every number is on the "
      "validation split (held-out characters of the training alphabets), "
      "mean ± sd over seeds (n)." + (f" {stacks}" if stacks else ""), "",
      "| metric | config | " + " | ".join(f"{s} steps" for s in counts)
      + " |", "|---|---|" + "---|" * len(counts)]
  for label, _ in VALIDATION:
    for name in names:
      by_steps = table[label].get(name, {})
      if not by_steps:
        continue
      cells = [(f"{by_steps[s]['mean']:.3f}" + (
          f" ± {by_steps[s]['sd']:.3f}" if by_steps[s]["n"] > 1 else "")
                + f" ({by_steps[s]['n']})") if s in by_steps else "–"
               for s in counts]
      lines.append(f"| {label} | {name} | " + " | ".join(cells) + " |")
  lines += ["", f"The rule: {STEP_RULE}. {RULE_HISTORY}", ""]
  if choice is None and complete:
    empty = [f"{n} at {c}" for n in names for c in counts
             if any(c not in table[label].get(n, {})
                    for label, _ in VALIDATION)]
    lines.append("Every run is done, but no seed of "
                 f"{', '.join(empty)} has finite validation metrics (each "
                 "diverged: see its diverged.json): no step count is chosen "
                 "(the study keeps its default).")
  elif choice is None:
    lines.append("Not every run has finished yet: no step count is chosen "
                 "(the study keeps its default).")
  else:
    for name, c in choice["per_config"].items():
      lines.append(f"- {name}: {c['steps']} steps" + (
          "" if c["converged"] else
          " (still improving at the largest count: a budget, not "
          "convergence)"))
    lines += ["", f"**The study trains {choice['chosen_steps']} steps** "
              "(`python -m projects.group_note.study` reads "
              "convergence_schedules.json)."]
  lower = drops(table, names, step_counts)
  lines += ["", "Lower at a longer count by more than that count's seed sd "
            "(the rule reads gains only): " + ("; ".join(lower) if lower
                                                else "none") + "."]
  return "\n".join(lines) + "\n"


def plot(table, names: Sequence[str], out_dir: str) -> Optional[str]:
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  if not any(table[label] for label, _ in VALIDATION):
    return None
  fig, axes = plt.subplots(1, len(VALIDATION), figsize=(4 * len(VALIDATION),
                                                        3.5))
  for ax, (label, _) in zip(axes, VALIDATION):
    for name in names:
      by_steps = table[label].get(name, {})
      if not by_steps:
        continue
      steps = sorted(by_steps)
      ax.errorbar(steps, [by_steps[s]["mean"] for s in steps],
                  yerr=[by_steps[s]["sd"] if by_steps[s]["n"] > 1 else 0.0
                        for s in steps], marker="o", ms=3, capsize=3,
                  label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("steps (each its own schedule)")
    ax.set_title(label, fontsize=9)
    ax.grid(alpha=0.3)
  axes[0].legend(fontsize=7)
  fig.tight_layout()
  fname = "convergence_schedules.png"
  fig.savefig(os.path.join(out_dir, fname), dpi=110)
  plt.close(fig)
  return fname


def write_outputs(runs: str, out_dir: str, names: Sequence[str],
                  step_counts: Sequence[int], seeds: Sequence[int]
                  ) -> List[str]:
  os.makedirs(out_dir, exist_ok=True)
  loaded = load(runs, names, step_counts, seeds)
  table = collect(loaded)
  results = [r for by_config in loaded.values()
             for by_seed in by_config.values() for r in by_seed.values()]
  stack_counts = report.stack_counts(results)
  stacks = report.describe_stacks(stack_counts)
  # No choice from part of the runs (a --summary-only while they go on); a
  # diverged run is done (its seed left out of the means, n says so).
  complete = all(sweep.done(sweep.workdir(runs_dir(runs, s), n, seed), s)
                 for s in step_counts for n in names for seed in seeds)
  choice = study_choice(table, names, step_counts) if complete else None
  if choice is not None:  # what trained the runs that chose (docs cites it)
    choice["stacks"] = stack_counts
  files = {"convergence_schedules.md": markdown(table, names, step_counts,
                                                seeds, choice, complete,
                                                stacks)}
  if choice is not None:
    files["convergence_schedules.json"] = json.dumps(choice, indent=1) + "\n"
  for fname, text in files.items():
    path = os.path.join(out_dir, fname)
    with open(path + ".tmp", "w") as f:
      f.write(text)
    os.replace(path + ".tmp", path)
  png = plot(table, names, out_dir)
  return list(files) + ([png] if png else [])


def cost_hours(names: Sequence[str], step_counts: Sequence[int],
               seeds: Sequence[int]) -> float:
  runs = len(names) * len(step_counts) * len(seeds)
  steps = len(names) * len(seeds) * sum(step_counts)
  return (steps * SECONDS_PER_STEP + runs * EVAL_SECONDS) / 3600


def main(argv=None) -> int:
  p = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--steps", default=",".join(map(str, STEPS)),
                 help="comma-separated step counts, each its own run")
  p.add_argument("--seeds", default="0,1,2")
  p.add_argument("--configs", default=",".join(NOTE_FOUR))
  sweep.add_flags(p, os.path.join("runs", "convergence"), RECORDS,
                  "the table, plot and choice")
  args = p.parse_args(argv)
  counts = [int(s) for s in args.steps.split(",") if s.strip()]
  seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
  names = study.config_names(p, args.configs)
  if not args.summary_only:
    print(f"{len(names) * len(counts) * len(seeds)} runs, about "
          f"{cost_hours(names, counts, seeds):.1f} h on a 2-core CPU.",
          flush=True)
    study.prepare_to_train()
  failed = run(names, counts, seeds, args.runs, workers=args.workers,
               records=args.records or None, train=not args.summary_only)
  written = write_outputs(args.runs, args.out, names, counts, seeds)
  return sweep.exit_status(written, args.out, failed)


if __name__ == "__main__":
  sys.exit(main())
