"""Where the study's three stages stand, and about how long each has left.

  python -m projects.group_note.progress [--runs=runs] [--out=results]
      [--records=results/records]

The stages run in order (run.sh), each resuming its own runs:
convergence (the step count), tune (each configuration's settings), study
(the seeds at those settings), then ProtoNet's reported run (`:final`:
reported once OUT/protonet/protonet_final_metrics.json exists; else
RUNS/protonet_final's step, and the hours left at its own logged pace).
For each stage it prints the runs finished out of its default command's
(finished in RUNS or kept in RECORDS), and the hours left: the steps left at
the stage's own pace (the median of its finished runs' seconds a step,
sweep.seconds_per_step: the stack and CPU that ran them; the study takes the
tuning runs' until it has its own; the line says which), else at a cost
model measured on the 2-core CPU (convergence's SECONDS_PER_STEP, tune's for
tune and the study), plus each run's evaluation (convergence's EVAL_SECONDS,
whose runs evaluate the validation split alone; tune's, whose runs evaluate
the score alone; study.EVAL_SECONDS, a full evaluation, for the study); the
note's four's evaluations during training left out; an interrupted run
counts as not started. A stage whose inputs are not chosen yet is costed at
what it would run today (the step count 2000, the configs' defaults) and
says what it waits for. Reads only: it trains nothing and writes nothing.
"""
import argparse
import os
import sys
from typing import List, Optional, Sequence, Tuple

import numpy as np

from grouprep import sweep
from projects.group_note import convergence
from projects.group_note import docs
from projects.group_note import study
from projects.group_note import tune
from projects.group_note.comparisons import CONFIGS, NOTE_FOUR

STUDY_SEEDS = (0, 1, 2)
# The stages' records (their --records defaults: RECORDS/STAGE).
RECORDS = os.path.join("results", "records")


def _schedules(out: str) -> str:
  """Where convergence writes the step count it chose."""
  return os.path.join(out, "convergence_schedules.json")


def _finished(runs: str, stage_records: str, name: str, seed: int,
              steps: int) -> Optional[str]:
  """Where the run finished: in RUNS, or kept in its record (committed: a
  fresh checkout's sweep restores it instead of training; settings not
  checked here); None if neither."""
  return next((wd for wd in (sweep.workdir(runs, name, seed),
                             sweep.workdir(stage_records, name, seed))
               if sweep.finished(wd, steps)), None)


def _pace(model: float, *measured: Tuple[str, Sequence[Optional[str]]]
          ) -> Tuple[float, str]:
  """(seconds a step, and where it comes from): the median pace
  (sweep.seconds_per_step: the stack and CPU that ran them) of the first of
  `measured` ((whose, finished workdirs or None)) with a paced run, else
  the cost model's `model`."""
  for whose, finished in measured:
    paces = [p for p in (sweep.seconds_per_step(wd) for wd in finished if wd)
             if p is not None]
    if paces:
      pace = float(np.median(paces))
      return pace, (f"{whose} pace, {pace:.3f} s a step (median of "
                    f"{len(paces)})")
  return model, f"the cost model's {model:g} s a step"


def _hours(steps_left: int, runs_left: int, seconds_per_step: float,
           eval_seconds: float) -> float:
  return (steps_left * seconds_per_step + runs_left * eval_seconds) / 3600


def convergence_line(runs: str, out: str, records: str) -> str:
  finished, left_steps, left_runs, by_count = [], 0, 0, []
  for s in convergence.STEPS:
    here = [_finished(
        convergence.runs_dir(os.path.join(runs, "convergence"), s),
        convergence.runs_dir(os.path.join(records, "convergence"), s), n,
        seed, s) for n in NOTE_FOUR for seed in STUDY_SEEDS]
    done = sum(wd is not None for wd in here)
    by_count.append(f"{s}: {done}/{len(here)}")
    finished += here
    left_runs += len(here) - done
    left_steps += (len(here) - done) * s
  done = sum(wd is not None for wd in finished)
  chosen = os.path.exists(_schedules(out))
  pace, source = _pace(convergence.SECONDS_PER_STEP, ("its runs'", finished))
  hours = _hours(left_steps, left_runs, pace, convergence.EVAL_SECONDS)
  return (f"convergence  {done}/{len(finished)} runs ({', '.join(by_count)}); "
          f"about {hours:.1f} h left at {source}"
          + (f"; chose {study.step_count(None, _schedules(out))[0]} steps"
             if chosen else ""))


def _tune_finished(runs: str, records: str,
                   steps: int) -> List[Optional[str]]:
  """Each tuning job's finished workdir (None: not finished) at STEPS."""
  return [_finished(
      os.path.join(runs, "tune", job.split("/")[0]),
      os.path.join(records, "tune", job.split("/")[0]), job.split("/", 1)[1],
      tune.TUNING_SEED, steps) for job, _ in tune.jobs(CONFIGS, steps)]


def tune_line(runs: str, out: str, records: str) -> str:
  steps = study.step_count(None, _schedules(out))[0]
  finished = _tune_finished(runs, records, steps)
  left = sum(wd is None for wd in finished)
  pace, source = _pace(tune.SECONDS_PER_STEP, ("its runs'", finished))
  hours = _hours(left * steps, left, pace, tune.EVAL_SECONDS)
  waits = ("" if os.path.exists(_schedules(out))
           else "; waits for convergence's step count")
  return (f"tune         {len(finished) - left}/{len(finished)} runs ({steps} "
          f"steps, seed {tune.TUNING_SEED}); about {hours:.1f} h left at "
          f"{source}{waits}")


def study_line(runs: str, out: str, records: str) -> str:
  steps = study.step_count(None, _schedules(out))[0]
  chosen = study.chosen_settings(os.path.join(out, "tuning", "chosen.json"))
  names = list(CONFIGS)
  finished = {n: [_finished(os.path.join(runs, "study"),
                            os.path.join(records, "study"), n, seed, steps)
                  for seed in STUDY_SEEDS]
              for n in names}
  every = [wd for wds in finished.values() for wd in wds]
  done = sum(wd is not None for wd in every)
  # The interacting-items question may be studied ahead of the rest
  # (projects/group_note/README.md): its configurations' share.
  six = docs.interacting_configs()
  left = len(every) - done
  # Its own runs' pace, else the tuning runs' (the same batches and stack).
  pace, source = _pace(tune.SECONDS_PER_STEP, ("its runs'", every),
                       ("the tuning runs'", _tune_finished(runs, records, steps)))
  hours = _hours(left * steps, left, pace, study.EVAL_SECONDS)
  untuned = [n for n in names if n not in chosen]
  waits = (f"; waits for tune ({len(untuned)} of {len(names)} configurations "
           "without chosen settings)" if untuned else "")
  six_done = sum(wd is not None for n in six for wd in finished[n])
  return (f"study        {done}/{len(every)} runs ({steps} steps, seeds "
          f"{','.join(map(str, STUDY_SEEDS))}; the interacting-items "
          f"{len(six)}: {six_done}/{len(six) * len(STUDY_SEEDS)}); about "
          f"{hours:.1f} h left at {source}{waits}")


def protonet_line(runs: str, out: str) -> str:
  from configs import protonet  # pylint: disable=g-import-not-at-top
  from grouprep import logs  # pylint: disable=g-import-not-at-top
  wd = os.path.join(runs, "protonet_final")
  steps = protonet.get_config("final").train.num_steps
  reported = os.path.join(out, docs.PROTONET_RUN + "_metrics.json")
  if os.path.exists(reported):  # committed: a fresh checkout has it
    return f"protonet     final run reported ({reported})"
  if sweep.finished(wd, steps):
    return f"protonet     final run finished ({steps} steps, {wd})"
  done = max(logs.read(wd), default=0)
  pace = sweep.seconds_per_step(wd)
  left = ("" if not done or pace is None else
          f"; about {pace * (steps - done) / 3600:.1f} h left at its own "
          "pace")
  return (f"protonet     final run at step {done}/{steps} ({wd}){left}"
          if done else f"protonet     final run not started ({steps} steps)")


def lines(runs: str = "runs", out: str = "results",
          records: str = RECORDS) -> List[str]:
  return [convergence_line(runs, out, records), tune_line(runs, out, records),
          study_line(runs, out, records), protonet_line(runs, out)]


def main(argv: Sequence[str] = None) -> int:
  p = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--runs", default="runs",
                 help="the folder holding convergence/, tune/ and study/")
  p.add_argument("--out", default="results")
  p.add_argument("--records", default=RECORDS,
                 help="the folder holding the stages' committed records")
  args = p.parse_args(argv)
  print("\n".join(lines(args.runs, args.out, args.records)))
  return 0


if __name__ == "__main__":
  sys.exit(main())
