"""The note's comparison over seeds: every alphabet-trained configuration,
trained and evaluated once per seed, then summarised with mean ± sd and n,
paired differences with 95% t-intervals, and convergence curves.

  python -m projects.group_note.study --seeds=0,1,2
  python -m projects.group_note.study --summary-only   # tables and plots only

Each (config, seed) trains into RUNS/CONFIG/seedS (default runs/study) with
config.seed = S, so the held-out characters (the validation split) follow
the seed: they are part of the spread. grouprep.sweep runs them: a finished
run is skipped, an interrupted one resumes, a failed one is named and the
others go on (the exit status is then 1); rerunning a finished study trains
nothing and rewrites the same tables. Each run's untrained encoder is
evaluated once per (seed, model, data, pooling, evaluation settings) and
reused by the configurations that share it, and compilations persist in the
grouprep cache.

The note's four configurations are also evaluated every --eval-every steps on
the held-out characters of the training alphabets (the validation split:
the note's ratio, the disjoint-character recall@1 and few-shot accuracy, in
eval_log.jsonl); unseen alphabets are read once, at the end. ProtoNet is not
in the study (hours per run on the Vinyals split).

Where the commands before it have run, the study takes the step count
projects.group_note.convergence chose (results/convergence_schedules.json;
--steps overrides it) and each configuration's learning rate and key
parameter from projects.group_note.tune (results/tuning/chosen.json;
--tuning='' ignores it; --settings-from=DIR reads both from DIR where the
tables go elsewhere). Once chosen.json exists, a configuration it has no
settings for is refused rather than trained at its defaults. A run of
other settings is a different config, so
its checkpoint is not resumed: the sweep moves such a run aside, finished
or not, and trains the new settings afresh (grouprep.sweep).

Raw pixels at the training resolution are evaluated once per seed by the
same evaluators (projects/group_note/pixels.py, RUNS/raw_pixels/seedS with
centroid groups, RUNS/raw_pixels_medoid/seedS with medoid groups), rows
beside the untrained encoders.

Writes into --out (default results/): summary.md (mean ± sd, n, per config,
and the runs it leaves out: diverged, which is not retried, or not finished;
then, written from the tables, the note's question metric by metric, one
finding per compared pair and the convergence table), study_per_seed.md
(every seed's row), study_paired.md (paired differences with 95%
t-intervals: between configurations, each against its untrained encoder,
and what training adds under each pooling), study_metrics.json (mean, sd,
n of every numeric leaf of metrics.json), study_settings.json (the step
count and each tuned configuration's settings), convergence_*.png (one per
metric, a line per configuration, band = sd) and study_configs.png (every
configuration's seeds, mean ± sd and untrained encoder, a panel per
headline metric). A difference is tested only over >= 3 paired seeds (SPEC
§5) and claimed only where its Benjamini-Hochberg q-value within its family
of the paired table is below 0.05 (projects.group_note.tables). Tables of
fewer finished runs than those already in --out summarise are refused
(exit 2), so a --summary-only on a checkout without the runs or their
records cannot overwrite a finished study's tables.
"""
import argparse
import dataclasses
import importlib
import importlib.util
import json
import os
import shlex
import sys
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from grouprep import report
from grouprep import sweep
from projects.group_note import plots
from projects.group_note import tables
from projects.group_note.comparisons import (CONFIGS, CONVERGENCE_EVALS,
                                             NOTE_FOUR)

@dataclasses.dataclass(frozen=True)
class Settings:
  """The study's own setting, the same for every run (part of each run's
  config, so a checkpoint of other settings is refused, not resumed)."""
  steps: int = 2000
  eval_every: int = 250  # the note's four only; 0: no convergence curves


def default_config(name: str):
  """configs/NAME.py's get_config() (the configs package, importable from
  the repository root or the install)."""
  return importlib.import_module(f"configs.{name}").get_config()


def unknown_configs(names: Sequence[str]) -> List[str]:
  """The names with no configs/NAME.py module."""
  return [n for n in names
          if importlib.util.find_spec(f"configs.{n}") is None]


def config_names(parser, text: str) -> List[str]:
  """--configs's comma-separated names; the parser's error names any
  without a configs/NAME.py."""
  names = [n.strip() for n in text.split(",") if n.strip()]
  unknown = unknown_configs(names)
  if unknown:
    parser.error(f"unknown config(s) {unknown}: no configs/NAME.py")
  return names


def prepare_to_train() -> None:
  """Before a command trains runs in this process: the CPU device count
  the configs ask for, and the persistent compilation cache."""
  from grouprep import main as main_lib  # pylint: disable=g-import-not-at-top
  from grouprep import platform  # pylint: disable=g-import-not-at-top
  platform.configure_cpu_devices(0)
  main_lib.configure_compilation_cache()


# What the study commands before it chose (each written by its command;
# absent until that command has run): the step count
# (projects.group_note.convergence) and each configuration's settings
# (projects.group_note.tune).
CONVERGENCE_CHOICE = os.path.join("results", "convergence_schedules.json")
TUNING_CHOICE = os.path.join("results", "tuning", "chosen.json")
# Seconds of a study run's full evaluation (every split and evaluator) on
# the 2-core CPU, for the cost estimates (progress).
EVAL_SECONDS = 45
# Where each finished run's record is kept (committed; grouprep.sweep).
RECORDS = os.path.join("results", "records", "study")


def chosen_steps(path: str = CONVERGENCE_CHOICE) -> int:
  """The step count the convergence command chose, read from `path` (its
  convergence_schedules.json); `step_count` says what applies without it."""
  with open(path) as f:
    return int(json.load(f)["chosen_steps"])


def step_count(steps: Optional[int], path: str) -> Tuple[int, str]:
  """(steps per run, where the count comes from): --steps, else the
  convergence command's choice in `path`, else the default (said, so a
  run pointed at a folder without the choice does not pass unnoticed)."""
  if steps:
    return steps, "--steps"
  if os.path.exists(path):
    return chosen_steps(path), f"chosen by the convergence command, {path}"
  return Settings.steps, (f"the default, as no {path} exists: projects."
                          "group_note.convergence writes it, or pass --steps")


def chosen_settings(path: str = TUNING_CHOICE) -> Dict[str, Dict]:
  """{name: {"settings": {dotted field: value}, ...}} as the tuning sweep
  chose them; {} before it has run."""
  if not os.path.exists(path):
    return {}
  with open(path) as f:
    return json.load(f)


def tuning_seed_overlap(chosen: Dict[str, Dict], seeds: Sequence[int]
                        ) -> List[str]:
  """The configurations whose settings were chosen on a run of one of
  `seeds`: that run won its sweep on validation, so as a study run it
  would carry the selection into the study's numbers."""
  return sorted(n for n, c in chosen.items() if c.get("seed") in seeds)


def apply_settings(config, settings: Dict[str, object]) -> None:
  """Sets each dotted field ("train.learning_rate") of config, which must
  exist (a misspelt field is an error, not a new field)."""
  with config.unlocked():
    for dotted, value in settings.items():
      *parents, leaf = dotted.split(".")
      node = config
      for key in parents:
        node = node[key]
      if leaf not in node:
        raise KeyError(f"config has no field {dotted!r}")
      node[leaf] = value


def run_overrides(name: str, seed: int, settings: Settings,
                  chosen: Optional[Dict[str, Dict]] = None
                  ) -> Dict[str, object]:
  """The dotted fields a study run sets on configs/NAME.py: its tuned
  settings where `chosen` has them, the seed and the study's step count
  (run_config adds the note's four's validation curves, which change
  nothing a run trains)."""
  overrides = dict((chosen or {}).get(name, {}).get("settings", {}))
  overrides.update({"seed": seed, "train.num_steps": settings.steps})
  return overrides


def main_command(name: str, seed: int, settings: Settings,
                 chosen: Optional[Dict[str, Dict]] = None) -> List[str]:
  """The `python -m grouprep.main` arguments that train and evaluate one
  study run as the study does (run_overrides as --config.FIELD flags; the
  validation curves aside), into runs/NAME_seedSEED."""
  def flag(field, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
      raise ValueError(f"{name}'s setting {field}={value!r}: a study run's "
                       "overrides are numbers or strings")
    return shlex.quote(f"--config.{field}="
                       + (value if isinstance(value, str) else repr(value)))
  return (["python", "-m", "grouprep.main", f"--config=configs/{name}.py",
           f"--workdir=runs/{name}_seed{seed}"]
          + [flag(k, v) for k, v in
             run_overrides(name, seed, settings, chosen).items()])


def run_config(name: str, seed: int, settings: Settings,
               make_config: Callable = default_config,
               chosen: Optional[Dict[str, Dict]] = None):
  """The config of one study run: configs/NAME.py with run_overrides (its
  tuned settings where `chosen` has them, the seed and the study's step
  count) and, for the note's four, the validation curves."""
  config = make_config(name)
  apply_settings(config, run_overrides(name, seed, settings, chosen))
  with config.unlocked():
    if name in NOTE_FOUR and settings.eval_every:
      config.eval.every = settings.eval_every
      for ev in CONVERGENCE_EVALS:  # the final evaluation's settings
        if ev not in config.eval.during_training:
          config.eval.during_training[ev] = config.evals[ev].to_dict()
  return config


def jobs(names: Sequence[str], seeds: Sequence[int]):
  """The note's four first, seed by seed, so their comparison has n seeds
  as early as possible; then every other configuration name by name (the
  study's order, then any other name), so each row reaches n seeds before
  the next starts."""
  ordered = [n for n in CONFIGS if n in names]
  ordered += [n for n in names if n not in CONFIGS]
  return sweep.order(ordered, seeds, seed_major=NOTE_FOUR)


def run(names: Sequence[str], seeds: Sequence[int], runs: str,
        settings: Settings, make_config: Callable = default_config,
        runner: Callable = sweep.train_and_evaluate,
        chosen: Optional[Dict[str, Dict]] = None,
        workers: int = 1, records: Optional[str] = None,
        train: bool = True) -> List[str]:
  """Trains and evaluates every unfinished (name, seed); returns the runs
  that failed ("name seed S: error"). records, train: grouprep.sweep.run's."""
  return sweep.run(
      jobs(names, seeds), runs, settings.steps,
      lambda name, seed: run_config(name, seed, settings, make_config,
                                    chosen), runner, workers,
      records=records, train=train)


class FewerRunsError(Exception):
  """The study's tables would replace tables of more finished runs."""


def runs_summarised(metrics_path: str) -> int:
  """The trained runs a study_metrics.json summarises: the n of each row's
  step count (the baselines, which train nothing, have none); 0 where there
  is no such file."""
  if not os.path.exists(metrics_path):
    return 0
  with open(metrics_path) as f:
    metrics = json.load(f)
  return sum(row["step"]["n"]
             for row in tables.trained_only(metrics).values())


def check_not_fewer(out_dir: str, results: Dict[str, Dict[int, Dict]]):
  """Raises FewerRunsError where out_dir's tables summarise more runs than
  `results` holds: a --summary-only on a checkout without the runs (or
  their records) would otherwise overwrite a finished study's tables with
  part of another's."""
  have = runs_summarised(os.path.join(out_dir, "study_metrics.json"))
  found = sum(len(by_seed) for by_seed in results.values())
  if found < have:
    raise FewerRunsError(
        f"{out_dir}/study_metrics.json summarises {have} finished runs and "
        f"these runs give {found}: not replacing it with fewer. Pass another "
        "--out to see the partial tables, or delete that folder's tables "
        "to replace them.")


def write_outputs(runs: str, out_dir: str, names: Sequence[str],
                  seeds: Sequence[int], settings: Settings,
                  chosen: Optional[Dict[str, Dict]] = None) -> List[str]:
  """Every output of the study into out_dir, from the finished runs;
  study_settings.json says what they trained at (steps; the stacks that
  trained them, with their run counts; each tuned configuration's
  settings, {} when none was tuned, and the step count its sweep ran), for
  the docs."""
  from projects.group_note import pixels  # pylint: disable=g-import-not-at-top
  os.makedirs(out_dir, exist_ok=True)
  results = sweep.load_results(runs, names, seeds, settings.steps)
  check_not_fewer(out_dir, results)
  curves = tables.convergence_curves(runs, names, seeds, settings.steps)
  baselines = pixels.load(runs, seeds)
  rows = tables.study_rows(results)
  outputs = tables.summary_tables(
      results, names, settings, curves, baselines, chosen,
      sweep.missing_runs(runs, results, names, seeds, settings.steps), rows)
  outputs["study_settings.json"] = json.dumps(
      {"steps": settings.steps,
       "stacks": report.stack_counts(r for by_seed in results.values()
                                     for r in by_seed.values()),
       "tuned": {n: c["settings"] for n, c in sorted((chosen or {}).items())
                 if n in results},
       "tuning_steps": {n: c["steps"] for n, c in sorted((chosen or {}).items())
                        if n in results and "steps" in c}},
      indent=1, sort_keys=True) + "\n"
  written = []
  for fname, text in outputs.items():
    path = os.path.join(out_dir, fname)
    with open(path + ".tmp", "w") as f:
      f.write(text)
    os.replace(path + ".tmp", path)
    written.append(fname)
  return (written + plots.plot_convergence(curves, out_dir)
          + plots.plot_configs(results, names, out_dir)
          + plots.plot_paired(rows, out_dir))


def main(argv=None) -> int:
  p = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
  p.add_argument("--configs", default=",".join(CONFIGS),
                 help="comma-separated config names (configs/NAME.py)")
  p.add_argument("--steps", type=int, default=None,
                 help="steps per run (default: the count "
                 "SETTINGS_FROM/convergence_schedules.json chose, else "
                 f"{Settings.steps})")
  p.add_argument("--tuning", default=None,
                 help="each configuration's chosen settings (default: "
                 "SETTINGS_FROM/tuning/chosen.json, the tuning sweep's; '' "
                 "or absent: "
                 "configs/NAME.py as is)")
  p.add_argument("--eval-every", type=int, default=Settings.eval_every)
  sweep.add_flags(p, os.path.join("runs", "study"), RECORDS,
                  "the tables and plots")
  p.add_argument("--settings-from", default=None,
                 help="the folder whose convergence_schedules.json and "
                 "tuning/chosen.json the defaults of --steps and --tuning "
                 "read (default: --out); e.g. --out=results/interacting_items "
                 "--settings-from=results for a part of the study")
  args = p.parse_args(argv)
  seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
  names = config_names(p, args.configs)
  settings_from = args.settings_from or args.out
  steps, source = step_count(
      args.steps, os.path.join(settings_from, "convergence_schedules.json"))
  print(f"{steps} steps per run ({source}).", flush=True)
  settings = Settings(steps, args.eval_every)
  tuning = (os.path.join(settings_from, "tuning", "chosen.json")
            if args.tuning is None else args.tuning)
  chosen = chosen_settings(tuning) if tuning else {}
  overlap = tuning_seed_overlap({n: c for n, c in chosen.items()
                                 if n in names}, seeds)
  if overlap:
    p.error(f"{tuning} chose the settings of {overlap} on a seed among "
            f"--seeds={args.seeds}; the study needs seeds the tuning sweep "
            "did not select on (tune's default seed is "
            "projects.group_note.tune.TUNING_SEED)")
  untuned = [n for n in names if chosen and n not in chosen]
  if untuned and not args.summary_only:
    p.error(f"{tuning} holds no chosen settings for {untuned}: run "
            f"`python -m projects.group_note.tune --configs="
            f"{','.join(untuned)}` first (results/tuning/NAME.md says why "
            "where every setting diverged), or pass --tuning='' to train "
            "every configuration at configs/NAME.py as is")
  if chosen:
    print(f"Settings chosen on validation ({tuning}): " + "; ".join(
        f"{n} {c['settings']}" for n, c in chosen.items() if n in names),
          flush=True)
  if not args.summary_only:
    prepare_to_train()
  failed = run(names, seeds, args.runs, settings, chosen=chosen,
               workers=args.workers, records=args.records or None,
               train=not args.summary_only)
  from projects.group_note import pixels  # pylint: disable=g-import-not-at-top
  pixels.run(seeds, args.runs, args.records or None,  # the raw-pixel rows
             compute=not args.summary_only)
  try:
    written = write_outputs(args.runs, args.out, names, seeds, settings,
                            chosen)
  except FewerRunsError as e:
    print(f"error: {e}", file=sys.stderr)
    if failed:
      print("Failed runs (rerun the same command to retry):\n  "
            + "\n  ".join(failed), file=sys.stderr)
    return 2
  return sweep.exit_status(written, args.out, failed)


if __name__ == "__main__":
  sys.exit(main())
