"""A resumable sweep: configurations × seeds, each trained and evaluated once.

  jobs = sweep.order(["gi_centroid", "smog"], seeds=[0, 1, 2])
  failed = sweep.run(jobs, "runs/sweep", steps=2000, config_for=config_for)
  results = sweep.load_results("runs/sweep", names, seeds, steps=2000)

Each (name, seed) trains into RUNS/NAME/seedS. A run whose metrics.json is
at the sweep's step count is skipped; an interrupted one resumes from its
last checkpoint (train.train's own resume path), so the same command
continues a sweep that takes many hours, and rerunning a finished sweep
trains nothing. A run that fails is named and the others go on; so is a
finished run whose checkpoint another configuration wrote (the sweep's
settings changed since), which is neither kept nor retrained.

workers > 1 runs that many jobs at once, each in its own process (spawned,
so each has its own JAX backend), for a large accelerator that one small
run leaves mostly idle; a worker's output goes to WORKDIR/sweep.log. A job's
numbers do not depend on `workers` (tests/test_sweep.py). On a CPU the
processes share its cores: keep the default of 1 there.
"""
import concurrent.futures
import json
import multiprocessing
import os
import sys
import time
import traceback
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

Job = Tuple[str, int]
# The --workers flag of the commands that run a sweep.
WORKERS_HELP = ("runs trained at once, each in its own process (for a large "
                "accelerator; on a CPU they share its cores: keep 1)")


def workdir(runs: str, name: str, seed: int) -> str:
  return os.path.join(runs, name, f"seed{seed}")


def finished(wd: str, steps: int) -> bool:
  """Whether wd holds a metrics.json evaluated at `steps`."""
  path = os.path.join(wd, "metrics.json")
  if not os.path.exists(path):
    return False
  with open(path) as f:
    return json.load(f).get("step") == steps


def train_and_evaluate(config, wd: str) -> None:
  """The default runner: train (resuming) and evaluate."""
  from grouprep import evaluate, train  # pylint: disable=g-import-not-at-top
  train.train(config, wd)
  evaluate.evaluate(config, wd)


def order(names: Sequence[str], seeds: Sequence[int],
          seed_major: Sequence[str] = ()) -> List[Job]:
  """The jobs in the order they run: the names in `seed_major` seed by seed
  (so their comparison has n seeds as early as possible), then every other
  name, name by name (each reaches n seeds before the next starts: a sweep
  stopped part way leaves complete rows, not rows at n < 3 that nothing can
  claim)."""
  first = [n for n in seed_major if n in names]
  jobs = [(n, s) for s in seeds for n in first]
  return jobs + [(n, s) for n in names if n not in first for s in seeds]


def run(jobs: Sequence[Job], runs: str, steps: int,
        config_for: Callable[[str, int], object],
        runner: Callable = train_and_evaluate, workers: int = 1) -> List[str]:
  """Trains and evaluates every unfinished job; returns the failed ones
  ("name seed S: error"), in job order. config_for(name, seed) gives a
  job's config (its seed and step count set). workers > 1: that many jobs
  at once, each in a spawned process (runner and configs must pickle)."""
  todo, errors = [], {}  # errors: job index in todo -> "Type: message"
  for k, (name, seed) in enumerate(jobs, 1):
    wd = workdir(runs, name, seed)
    tag = f"[{k}/{len(jobs)}] {name} seed {seed}"
    if finished(wd, steps):
      other = written_by_another(wd, config_for, name, seed)
      if other is None:
        print(f"{tag}: finished, skipped ({wd})", flush=True)
        continue
      # Finished, but not this config's run: neither kept nor retrained.
      errors[len(todo)] = f"{name} seed {seed}: {other}"
      print(f"{tag}: FAILED ({errors[len(todo)]}); going on", flush=True)
    todo.append((tag, name, seed, wd))

  def report(i, error, seconds):
    tag, name, seed, _ = todo[i]
    if error is None:
      print(f"{tag}: done in {seconds:.0f} s", flush=True)
    else:
      errors[i] = f"{name} seed {seed}: {error}"
      print(f"{tag}: FAILED ({errors[i]}); going on", flush=True)

  if workers <= 1:
    for i, (tag, name, seed, wd) in enumerate(todo):
      if i in errors:
        continue
      print(f"{tag}: training to step {steps} in {wd}", flush=True)
      t = time.time()
      try:
        runner(config_for(name, seed), wd)
        report(i, None, time.time() - t)
      except Exception as e:  # pylint: disable=broad-except
        traceback.print_exc()
        report(i, f"{type(e).__name__}: {e}", 0)
  else:
    with concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_setup) as pool:
      futures = {}
      for i, (tag, name, seed, wd) in enumerate(todo):
        if i in errors:
          continue
        try:
          config = config_for(name, seed)
        except Exception as e:  # pylint: disable=broad-except
          report(i, f"{type(e).__name__}: {e}", 0)
          continue
        log = os.path.join(wd, "sweep.log")
        print(f"{tag}: queued, to step {steps} in {wd} (output: {log})",
              flush=True)
        futures[pool.submit(_run_logged, runner, config, wd, log)] = i
      for future in concurrent.futures.as_completed(futures):
        try:
          error, seconds = future.result()
        except Exception as e:  # pylint: disable=broad-except
          error, seconds = f"{type(e).__name__}: {e}", 0  # a worker died
        report(futures[future], error, seconds)
  return [errors[i] for i in sorted(errors)]


def written_by_another(wd: str, config_for: Callable, name: str, seed: int
                       ) -> Optional[str]:
  """None when the finished run in wd was trained by config_for(name,
  seed) (its newest checkpoint's config agrees on every identity field:
  checkpoints.IDENTITY_FIELDS, the schedule's learning rate included) or
  holds no checkpoint to tell; else why not. So a sweep whose settings
  changed (a tuning sweep's new choice) fails that run instead of keeping
  the old one as if it were the new one's."""
  if not os.path.isdir(os.path.join(wd, "checkpoints")):
    return None
  from grouprep import checkpoints  # pylint: disable=g-import-not-at-top
  try:
    checkpoints.check_written_by(wd, config_for(name, seed).to_dict())
  except Exception as e:  # pylint: disable=broad-except
    return f"{type(e).__name__}: {e}"
  return None


def _worker_setup() -> None:
  """A worker process's JAX set-up: the parent's persistent compilation
  cache (its XLA_FLAGS and device settings come with the environment)."""
  from grouprep import main as main_lib  # pylint: disable=g-import-not-at-top
  main_lib.configure_compilation_cache()


def _run_logged(runner: Callable, config, wd: str, log: str
                ) -> Tuple[Optional[str], float]:
  """One job in a worker, its output (Python's and XLA's) appended to log:
  (None or "ErrorType: message", seconds)."""
  os.makedirs(wd, exist_ok=True)
  t = time.time()
  sys.stdout.flush()
  sys.stderr.flush()
  saved = os.dup(1), os.dup(2)
  with open(log, "a") as f:
    os.dup2(f.fileno(), 1)
    os.dup2(f.fileno(), 2)
    try:
      runner(config, wd)
      error = None
    except Exception as e:  # pylint: disable=broad-except
      traceback.print_exc()
      error = f"{type(e).__name__}: {e}"
    finally:
      sys.stdout.flush()
      sys.stderr.flush()
      for fd, copy in zip((1, 2), saved):
        os.dup2(copy, fd)
        os.close(copy)
  return error, time.time() - t


def load_results(runs: str, names: Sequence[str], seeds: Sequence[int],
                 steps: int) -> Dict[str, Dict[int, Dict]]:
  """{name: {seed: metrics.json + its train_seconds and
  paced_train_seconds}} of the finished runs."""
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


def exit_status(written: Sequence[str], out: str, failed: Sequence[str]
                ) -> int:
  """Says what a sweep command wrote and which runs failed; its exit status
  (1 when any failed: rerunning the same command retries them)."""
  import sys  # pylint: disable=g-import-not-at-top
  print(f"Wrote {', '.join(written)} in {out}.", flush=True)
  if failed:
    print("Failed runs (rerun the same command to retry):\n  " +
          "\n  ".join(failed), file=sys.stderr)
    return 1
  return 0
