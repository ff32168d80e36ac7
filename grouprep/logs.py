"""The run's jsonl logs in the workdir: train_log.jsonl (training metrics
every train.log_every steps) and eval_log.jsonl (the evaluation during
training). The one module that writes and reads them."""
import json
import os
from typing import Dict

KINDS = ("train", "eval")


def path(workdir: str, kind: str) -> str:
  if kind not in KINDS:
    raise ValueError(f"Unknown log {kind!r}; one of {KINDS}.")
  return os.path.join(workdir, f"{kind}_log.jsonl")


def append(workdir: str, kind: str, step: int, row: Dict) -> None:
  """Adds {"step": step, **row} to the log (one line, flushed on close)."""
  with open(path(workdir, kind), "a") as f:
    f.write(json.dumps({"step": step, **row}) + "\n")


def read(workdir: str, kind: str = "train") -> Dict[int, Dict]:
  """{step: row}, the last row per step (a resumed run re-logs some steps);
  {} when there is no log."""
  p = path(workdir, kind)
  if not os.path.exists(p):
    return {}
  rows = [json.loads(l) for l in open(p) if l.strip()]
  return {r["step"]: r for r in rows}


def wall_seconds_before(workdir: str, step: int) -> float:
  """Training seconds spent before `step` by earlier (interrupted) runs."""
  rows = [r for s, r in sorted(read(workdir).items()) if s <= step]
  return rows[-1].get("wall_s", 0.0) if rows else 0.0


def trained_devices(workdir: str):
  """The device count the run trained on (its last training log row), or
  None when the log does not say."""
  rows = read(workdir)
  if rows and "num_devices" in rows[max(rows)]:
    return int(rows[max(rows)]["num_devices"])
  return None
