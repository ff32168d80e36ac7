"""A resumable sweep: configurations × seeds, each trained and evaluated once.

  jobs = sweep.order(["gi_centroid", "smog"], seeds=[0, 1, 2])
  failed = sweep.run(jobs, "runs/sweep", steps=2000, config_for=config_for)
  results = sweep.load_results("runs/sweep", names, seeds, steps=2000)

Each (name, seed) trains into RUNS/NAME/seedS. A run whose metrics.json is
at the sweep's step count is skipped; an interrupted one resumes from its
last checkpoint (train.train's own resume path), so the same command
continues a sweep that takes many hours, and rerunning a finished sweep
trains nothing. A run that fails is named and the others go on; one that
met a non-finite loss is recorded as diverged (WORKDIR/diverged.json) and
not retried, since resuming meets the same batches again. A workdir
whose checkpoint another configuration wrote (the sweep's settings changed
since: a tuning sweep's new choice), finished or not, is moved aside to
RUNS/NAME/seedS.other-config-K, nothing deleted, and the run trained
afresh, so no table mixes the old settings with the new.

workers > 1 runs that many jobs at once, each in a process of its own
(spawned: its own JAX backend), for a GPU that one small run leaves mostly
idle; a job's output goes to its WORKDIR/sweep.log. A job's numbers do not
depend on `workers` (tests/test_sweep.py); a worker that dies (out of
memory) fails its own job alone; Ctrl-C or a SIGTERM (a time limit) stops
the running workers, which resume from their checkpoints when the sweep
runs again. On a CPU the processes share its cores: keep the default of 1
there. Not on a TPU, which one process holds.

records=DIR keeps each finished (or diverged) run's record, what the
tables read and not its checkpoints (RECORD_FILES: metrics.json, the
logs, diverged.json, run_config.json), in DIR/NAME/seedS, a folder meant
to be committed; a sweep on a fresh checkout (runs/ empty) copies every
record of the same run config back into its workdir instead of training
it again, so a sweep that takes more hours than one machine lives adds up
across machines. A record of other settings is not restored; the new
run's record takes its place, the old one moved aside to
RECORD.other-config-K (from where those settings restore it). The same
holds in RUNS: a done run whose own config (run_config.json, which the
default runner writes, or its checkpoint's) says it was trained or
evaluated otherwise is moved aside (`stale`) and trained again.
"""
import glob
import json
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

Job = Tuple[str, int]
# The --workers flag of the commands that run a sweep.
WORKERS_HELP = ("runs trained at once, each in its own process (for a GPU "
                "that one run leaves idle; on a CPU they share its cores: "
                "keep 1; not on a TPU)")
# The --records flag of the commands that run a sweep.
RECORDS_HELP = ("the folder (committed) that keeps each finished run's "
                "record and gives it back to a fresh checkout instead of "
                "training it again; '' for none")


def add_flags(parser, runs: str, records: str, writes: str) -> None:
  """The flags of every command that runs a sweep: --runs (its runs'
  folder), --records, --out (where its tables go), --workers and
  --summary-only (write `writes` from the finished runs, training
  nothing)."""
  parser.add_argument("--runs", default=runs)
  parser.add_argument("--records", default=records, help=RECORDS_HELP)
  parser.add_argument("--out", default="results")
  parser.add_argument("--workers", type=int, default=1, help=WORKERS_HELP)
  parser.add_argument("--summary-only", action="store_true",
                      help=f"write {writes} from the finished runs "
                      "(restoring RECORDS's into RUNS first), training "
                      "nothing")


def workdir(runs: str, name: str, seed: int) -> str:
  return os.path.join(runs, name, f"seed{seed}")


def finished(wd: str, steps: int) -> bool:
  """Whether wd holds a metrics.json evaluated at `steps`."""
  path = os.path.join(wd, "metrics.json")
  if not os.path.exists(path):
    return False
  with open(path) as f:
    return json.load(f).get("step") == steps


DIVERGED = "diverged.json"


def _read_json(path: str) -> Optional[Dict]:
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return json.load(f)


def _diverged_record(wd: str) -> Optional[Dict]:
  return _read_json(os.path.join(wd, DIVERGED))


def diverged(wd: str, steps: int) -> Optional[str]:
  """The error of a run to `steps` that stopped at a non-finite loss
  (WD/diverged.json, which train_and_evaluate writes with the run's
  config), else None. Resuming from its last good checkpoint meets the
  same batches again, so a sweep does not retry it; delete the file to.
  A sweep whose settings for the run changed sets it aside instead
  (`written_by_another`)."""
  record = _diverged_record(wd)
  return record["error"] if record and record.get("steps") == steps else None


# The whole config a finished run was trained and evaluated by (its record's
# provenance; a workdir's checkpoints say the same of theirs).
RUN_CONFIG = "run_config.json"
RECORD_FILES = ("metrics.json", "train_log.jsonl", "eval_log.jsonl",
                DIVERGED, RUN_CONFIG)
# What a record's numbers depend on beyond a checkpoint's identity fields:
# the training and data sections, and what was evaluated how; field by
# field, as a checkpoint's (a field added since is taken to have had its
# default then), and the set of evaluators whole (one added since makes a
# record stale: its numbers are missing).
_RECORD_SECTIONS = ("train", "data", "eval", "evals")


def _config_json(config) -> Dict:
  return json.loads(config.to_json_best_effort())


def done(wd: str, steps: int) -> bool:
  """Finished or diverged at `steps`: nothing left to train."""
  return finished(wd, steps) or bool(diverged(wd, steps))


def run_config_of(wd: str) -> Optional[Dict]:
  """The whole config wd's run was trained by, as the run itself says:
  its run_config.json, else its diverged.json's, else its newest
  checkpoint's (a run finished before records were kept); None where
  nothing says."""
  saved = _recorded_config(wd)
  if saved is None:
    from grouprep import checkpoints  # pylint: disable=g-import-not-at-top
    step_config = checkpoints.saved_config(wd)
    saved = step_config and step_config[1]
  return saved


def _recorded_config(wd: str) -> Optional[Dict]:
  """The config wd's run_config.json, else its diverged.json, holds."""
  saved = _read_json(os.path.join(wd, RUN_CONFIG))
  return saved if saved is not None else (
      _diverged_record(wd) or {}).get("config")


def record_differs(saved: Dict, current: Dict) -> Optional[str]:
  """None when the config dict `saved` (a record's) trained and evaluated
  the run the config dict `current` describes; else what differs."""
  from grouprep import checkpoints  # pylint: disable=g-import-not-at-top
  try:
    checkpoints.check_same_run(
        saved, current, "The record",
        checkpoints.IDENTITY_FIELDS + _RECORD_SECTIONS)
  except checkpoints.CheckpointError as e:
    return e.finding
  if sorted(saved.get("evals") or {}) != sorted(current.get("evals") or {}):
    return (f"its evaluators were {sorted(saved.get('evals') or {})}, "
            f"now {sorted(current.get('evals') or {})}")
  return None


def recorded(record: str, steps: int, config) -> bool:
  """Whether the folder `record` holds the done run (`done`) at `steps`
  of config, trained and evaluated as config says (`record_differs`). An
  unreadable record (a half-written or conflicted file) is warned of and
  taken as absent."""
  try:
    saved = _read_json(os.path.join(record, RUN_CONFIG))
    if saved is None or not done(record, steps):
      return False
  except (OSError, ValueError) as e:
    print(f"grouprep: warning: the record in {record} is unreadable ({e}); "
          "taken as absent.", file=sys.stderr, flush=True)
    return False
  return record_differs(saved, _config_json(config)) is None


def write_run_config(wd: str, saved: Dict) -> None:
  """WD/run_config.json: the whole config dict that trained the run."""
  from grouprep import tempfiles  # pylint: disable=g-import-not-at-top
  path = os.path.join(wd, RUN_CONFIG)
  with open(tempfiles.temporary_path(path), "w") as f:
    json.dump(saved, f, indent=1, sort_keys=True)
  os.replace(tempfiles.temporary_path(path), path)


def _recover(record: str) -> None:
  """Undoes what a save killed part way left: RECORD.replaced back where
  RECORD is missing, else removed; RECORD.saving removed."""
  if os.path.exists(record + ".replaced"):
    if os.path.exists(record):
      shutil.rmtree(record + ".replaced")
    else:
      os.rename(record + ".replaced", record)
  shutil.rmtree(record + ".saving", ignore_errors=True)


def save_record(wd: str, record: str, saved: Dict) -> None:
  """Writes the config dict `saved` (what trained the done run in wd) to
  WD/run_config.json and copies the RECORD_FILES of wd to the folder
  `record`. A record there of the same run is replaced; one of other
  settings (or unreadable) is moved aside to RECORD.other-config-K, from
  where a sweep of those settings still restores it."""
  write_run_config(wd, saved)
  record = record.rstrip(os.sep)
  _recover(record)
  staged = record + ".saving"
  os.makedirs(staged)
  for name in RECORD_FILES:
    if os.path.exists(os.path.join(wd, name)):
      shutil.copy2(os.path.join(wd, name), os.path.join(staged, name))
  if os.path.exists(record):
    try:
      old = _read_json(os.path.join(record, RUN_CONFIG))
    except (OSError, ValueError):
      old = None
    if old is not None and record_differs(old, saved) is None:
      os.rename(record, record + ".replaced")  # never without a record
      os.rename(staged, record)
      shutil.rmtree(record + ".replaced")
      return
    set_aside(record)
  os.rename(staged, record)


def restore_record(record: str, wd: str) -> None:
  """Copies a record into wd; what wd held (a part of the same run) is
  moved aside first, to WD.partial-K, so wd's checkpoints are never a
  partial model beside the finished run's numbers."""
  if os.path.isdir(wd) and os.listdir(wd):
    set_aside(wd, "partial")
  os.makedirs(wd, exist_ok=True)
  for f in RECORD_FILES:
    if os.path.exists(os.path.join(record, f)):
      shutil.copy2(os.path.join(record, f), os.path.join(wd, f))


def sync_record(wd: str, record: str, steps: int, config,
                move_partial: bool = True) -> bool:
  """A workdir that is not done gets config's record back (from the folder
  `record`, or one set aside beside it: `recorded`); whether it did. A
  done workdir whose own config (`run_config_of`) is config's gets a
  record written where none of that config is kept (the first one kept
  stays: two machines' runs of one config do not overwrite each other).
  A part of a run is moved aside for the record only if move_partial (a
  --summary-only beside a training sweep must not move its run). The
  caller has set aside (or skipped) a workdir of other settings."""
  _recover(record)
  kept = [r for r in [record] + sorted(glob.glob(
      glob.escape(record) + ".other-config-*")) if recorded(r, steps, config)]
  if done(wd, steps):
    saved = run_config_of(wd)
    if not kept and saved is not None and not record_differs(
        saved, _config_json(config)):
      save_record(wd, record, saved)
    return False
  if kept and (move_partial or not (os.path.isdir(wd) and os.listdir(wd))):
    restore_record(kept[0], wd)
    return True
  return False


def train_and_evaluate(config, wd: str) -> None:
  """The default runner: train (resuming) and evaluate. A non-finite loss
  is recorded in WD/diverged.json (see `diverged`) and raised."""
  from grouprep import evaluate, train  # pylint: disable=g-import-not-at-top
  from grouprep.errors import NonFiniteLossError  # pylint: disable=g-import-not-at-top
  try:
    train.train(config, wd)
  except NonFiniteLossError as e:
    from grouprep import tempfiles  # pylint: disable=g-import-not-at-top
    path = os.path.join(wd, DIVERGED)
    with open(tempfiles.temporary_path(path), "w") as f:
      json.dump({"steps": config.train.num_steps, "error": str(e),
                 "by_step": e.step,
                 "config": json.loads(config.to_json_best_effort())}, f)
    os.replace(tempfiles.temporary_path(path), path)
    raise
  # Before metrics.json: no finished run without its config beside it.
  write_run_config(wd, _config_json(config))
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
        runner: Callable = train_and_evaluate, workers: int = 1,
        diverged_ok: bool = False, records: Optional[str] = None,
        train: bool = True) -> List[str]:
  """Trains and evaluates every unfinished job; returns the failed ones
  ("name seed S: error"), in job order. config_for(name, seed) gives a
  job's config (its seed and step count set). workers > 1: that many jobs
  at once, each in a spawned process (runner and configs must pickle).
  A run that diverged (`diverged`) is not retried; it is a failure unless
  diverged_ok (a tuning sweep, where it is a result: the setting scores
  NaN). records: see the module's docstring; train=False restores and
  saves the records alone (a command's --summary-only)."""
  todo, errors = [], {}  # errors: job index -> "name seed S: error"

  def keep_record(name, seed, wd):
    if records and done(wd, steps):  # trained now, by config_for's config
      save_record(wd, workdir(records, name, seed),
                  _config_json(config_for(name, seed)))

  def report(i, error, seconds):
    tag, name, seed, wd, k = todo[i]
    keep_record(name, seed, wd)
    if error is None:
      print(f"{tag}: done in {seconds:.0f} s", flush=True)
    elif diverged_ok and diverged(wd, steps):
      print(f"{tag}: diverged ({wd}/{DIVERGED}); a result, going on",
            flush=True)
    else:
      errors[k] = f"{name} seed {seed}: {error}"
      print(f"{tag}: FAILED ({errors[k]}); going on", flush=True)

  for k, (name, seed) in enumerate(jobs, 1):
    wd = workdir(runs, name, seed)
    tag = f"[{k}/{len(jobs)}] {name} seed {seed}"
    try:
      config = config_for(name, seed)
    except Exception:  # pylint: disable=broad-except
      continue  # the job itself names the error below
    other = written_by_another(wd, config) or stale(wd, steps, config)
    if other is not None:
      if not train:
        continue  # a summary moves nothing
      moved = set_aside(wd)
      print(f"{tag}: {wd} holds a run of another configuration ({other}); "
            f"moved to {moved}, training afresh", flush=True)
    if records and sync_record(wd, workdir(records, name, seed), steps,
                               config, move_partial=train):
      print(f"{tag}: restored from its record in {records}", flush=True)
  if not train:
    return []
  for k, (name, seed) in enumerate(jobs, 1):
    wd = workdir(runs, name, seed)
    tag = f"[{k}/{len(jobs)}] {name} seed {seed}"
    if finished(wd, steps):
      print(f"{tag}: finished, skipped ({wd})", flush=True)
    elif diverged(wd, steps):
      print(f"{tag}: diverged before, not retried (delete {wd}/{DIVERGED} "
            "to retry)", flush=True)
      if not diverged_ok:
        errors[k] = f"{name} seed {seed}: {diverged(wd, steps)}"
    else:
      todo.append((tag, name, seed, wd, k))
  if workers <= 1:
    for i, (tag, name, seed, wd, _) in enumerate(todo):
      print(f"{tag}: training to step {steps} in {wd}", flush=True)
      t = time.time()
      try:
        runner(config_for(name, seed), wd)
      except Exception as e:  # pylint: disable=broad-except
        traceback.print_exc()
        report(i, f"{type(e).__name__}: {e}", 0)
      else:
        report(i, None, time.time() - t)
  else:
    _run_in_workers(todo, steps, config_for, runner, workers, report)
  return [errors[i] for i in sorted(errors)]


def written_by_another(wd: str, config) -> Optional[str]:
  """None when wd holds no checkpoint and no recorded config, or they were
  written by config (checkpoints.check_written_by: every identity field,
  the learning-rate schedule included; a run that diverged before its
  first checkpoint has only its diverged.json, a workdir restored from its
  record only its run_config.json); else which field differs."""
  saved = _recorded_config(wd)
  if not os.path.isdir(os.path.join(wd, "checkpoints")) and saved is None:
    return None
  from grouprep import checkpoints  # pylint: disable=g-import-not-at-top
  try:
    checkpoints.check_written_by(wd, config.to_dict())
    if saved is not None:
      checkpoints.check_same_run(saved, config.to_dict(),
                                 f"The run recorded in {wd}")
  except checkpoints.CheckpointError as e:
    return e.finding
  return None


def stale(wd: str, steps: int, config) -> Optional[str]:
  """What differs where wd holds a done run whose own config
  (`run_config_of`) trained or evaluated it otherwise than config would
  (say, an evaluator added since: its numbers are not this sweep's); else
  None."""
  if not done(wd, steps):
    return None
  saved = run_config_of(wd)
  return saved and record_differs(saved, _config_json(config))


def set_aside(wd: str, why: str = "other-config") -> str:
  """Renames wd to wd.WHY-K, the first K free; returns the name."""
  k = 1
  while os.path.exists(f"{wd}.{why}-{k}"):
    k += 1
  os.rename(wd, f"{wd}.{why}-{k}")
  return f"{wd}.{why}-{k}"


def _run_in_workers(todo, steps, config_for, runner, workers, report):
  """The jobs of `todo`, at most `workers` at once, each in a spawned
  process of its own; report(i, error or None, seconds) as each ends."""
  context = multiprocessing.get_context("spawn")
  queue, running = list(enumerate(todo)), {}  # i -> (process, pipe, start)

  def terminated(signum, frame):  # a time limit's SIGTERM: as Ctrl-C
    del frame
    raise SystemExit(128 + signum)

  in_main_thread = threading.current_thread() is threading.main_thread()
  if in_main_thread:  # only the main thread may set a handler
    previous = signal.signal(signal.SIGTERM, terminated)
  try:
    while queue or running:
      while queue and len(running) < workers:
        i, (tag, name, seed, wd, _) = queue.pop(0)
        try:
          config = config_for(name, seed)
        except Exception as e:  # pylint: disable=broad-except
          report(i, f"{type(e).__name__}: {e}", 0)
          continue
        log = os.path.join(wd, "sweep.log")
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_worker, args=(runner, config, wd,
                                                        log, send))
        process.start()
        send.close()
        running[i] = (process, receive, time.time())
        print(f"{tag}: training to step {steps} in {wd} (output: {log})",
              flush=True)
      multiprocessing.connection.wait([p.sentinel for p, _, _ in
                                       running.values()])
      for i, (process, receive, start) in list(running.items()):
        if process.exitcode is None:
          continue
        try:
          error = receive.recv()
        except EOFError:  # it ended without a word: killed, or crashed
          error = (f"its worker process died (exit code {process.exitcode}"
                   f"); see {os.path.join(todo[i][3], 'sweep.log')}")
        receive.close()
        process.join()
        del running[i]
        report(i, error, time.time() - start)
  except BaseException:  # Ctrl-C, SIGTERM or a failure: stop the workers
    for process, _, _ in running.values():
      process.terminate()
    for process, _, _ in running.values():
      process.join()
    raise
  finally:
    if in_main_thread:
      signal.signal(signal.SIGTERM, previous)


def _worker(runner: Callable, config, wd: str, log: str, send) -> None:
  """A worker process: one job, its output (Python's and XLA's) appended to
  log; sends None or "ErrorType: message" back. Ctrl-C is the parent's to
  handle (it stops the workers)."""
  signal.signal(signal.SIGINT, signal.SIG_IGN)
  error = None
  try:
    os.makedirs(wd, exist_ok=True)
    with open(log, "a") as f:
      os.dup2(f.fileno(), 1)
      os.dup2(f.fileno(), 2)
    from grouprep import main as main_lib  # pylint: disable=g-import-not-at-top
    # The parent's cache: the same directory, from the same environment.
    main_lib.configure_compilation_cache()
    runner(config, wd)
  except Exception as e:  # pylint: disable=broad-except
    traceback.print_exc()
    # Short: the parent reads it once this process has ended, so it must
    # fit the pipe's buffer.
    error = f"{type(e).__name__}: {e}"[:2000]
  finally:
    sys.stdout.flush()
    sys.stderr.flush()
  send.send(error)
  send.close()


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


def missing_runs(runs: str, results: Dict[str, Dict[int, Dict]],
                 names: Sequence[str], seeds: Sequence[int],
                 steps: int) -> Dict[str, Dict[int, str]]:
  """{name: {seed: why}} of the runs `results` (load_results') leaves out:
  "diverged by step N" (a non-finite loss; not retried, see `diverged`) or
  "not finished"."""
  out = {}
  for name in names:
    for seed in seeds:
      if seed in results.get(name, {}):
        continue
      record = _diverged_record(workdir(runs, name, seed))
      if record and record.get("steps") == steps:
        by_step = record.get("by_step")
        why = "diverged" + (f" by step {by_step}" if by_step is not None
                            else "")
      else:
        why = "not finished"
      out.setdefault(name, {})[seed] = why
  return out


def _pace(wd: str) -> Tuple[Optional[float], int]:
  """(the median seconds per step between consecutive training log rows, or
  None without two; the last step logged with its wall_s)."""
  from grouprep import logs  # pylint: disable=g-import-not-at-top
  rows = sorted((s, r["wall_s"]) for s, r in logs.read(wd).items()
                if "wall_s" in r)
  pace = [(w1 - w0) / (s1 - s0) for (s0, w0), (s1, w1) in zip(rows, rows[1:])
          if s1 > s0 and w1 >= w0]
  return (float(np.median(pace)) if pace else None,
          rows[-1][0] if rows else 0)


def seconds_per_step(wd: str) -> Optional[float]:
  """The run's pace: its median seconds per step between consecutive
  training log rows, so pauses (a stopped process, the cores lent to a
  benchmark) and brief contention, which the log's wall_s keeps in, are
  left out. None without two log rows."""
  return _pace(wd)[0]


def paced_train_seconds(wd: str) -> Optional[float]:
  """seconds_per_step times the run's steps: its training time with pauses
  left out."""
  pace, steps = _pace(wd)
  return None if pace is None else pace * steps


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
