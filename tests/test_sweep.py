"""The resumable sweep: job order, skipping finished runs, naming failed
ones, and the paced training time."""
import json
import os

import ml_collections
import pytest

from grouprep import logs
from grouprep import sweep


def test_order_is_seed_major_first_then_name_by_name():
  jobs = sweep.order(["a", "b", "c", "d"], [0, 1], seed_major=("c", "a", "z"))
  assert jobs == [("c", 0), ("a", 0), ("c", 1), ("a", 1),
                  ("b", 0), ("b", 1), ("d", 0), ("d", 1)]


def test_a_finished_run_is_skipped_and_a_failed_one_named(tmp_path):
  runs = str(tmp_path)
  done = sweep.workdir(runs, "a", 0)
  os.makedirs(done)
  with open(os.path.join(done, "metrics.json"), "w") as f:
    json.dump({"step": 3}, f)
  ran = []

  def config_for(name, seed):
    if name == "broken":
      raise ValueError("no such thing")
    return ml_collections.ConfigDict({"name": name, "seed": seed})

  failed = sweep.run(sweep.order(["a", "broken", "b"], [0]), runs, 3,
                     config_for, lambda c, wd: ran.append((c.name, wd)))
  assert failed == ["broken seed 0: ValueError: no such thing"]
  assert ran == [("b", sweep.workdir(runs, "b", 0))]
  # Another step count: the run is not finished, so it runs again.
  assert not sweep.finished(done, 4) and sweep.finished(done, 3)


def test_paced_train_seconds_leave_a_pause_out(tmp_path):
  wd = str(tmp_path)
  os.makedirs(os.path.dirname(logs.path(wd, "train")), exist_ok=True)
  # 0.5 s per step, except one interval of 25 steps that took 600 s (the
  # process stopped); the wall clock says 650 s.
  walls = {25: 12.5, 50: 25.0, 75: 625.0, 100: 637.5, 125: 650.0}
  with open(logs.path(wd, "train"), "w") as f:
    for step, wall in walls.items():
      f.write(json.dumps({"step": step, "loss": 1.0, "wall_s": wall}) + "\n")
  assert sweep.paced_train_seconds(wd) == pytest.approx(0.5 * 125)
  assert sweep.paced_train_seconds(str(tmp_path / "none")) is None
