"""Report plots read the logs the training loop writes."""
import json
import os

import pytest

from grouprep import logs
from grouprep import report


def _write_log(workdir, kind, rows):
  with open(os.path.join(workdir, f"{kind}_log.jsonl"), "w") as f:
    for row in rows:
      f.write(json.dumps(row) + "\n")


def test_training_curves_plot_every_logged_metric(tmp_path):
  # A resumed run re-logs step 20; the later row wins.
  _write_log(tmp_path, "train", [
      {"step": 10, "loss": 3.0, "grad_norm": 1.0, "steps_per_s": 1.0,
       "wall_s": 10.0, "groups_used_in_batch": 30.0,
       "assignment_entropy": 0.4},
      {"step": 20, "loss": 2.0, "grad_norm": 0.5, "steps_per_s": 1.0,
       "wall_s": 20.0, "groups_used_in_batch": 90.0,
       "assignment_entropy": 0.8},
      {"step": 20, "loss": 2.5, "grad_norm": 0.5, "steps_per_s": 1.0,
       "wall_s": 21.0, "groups_used_in_batch": 91.0,
       "assignment_entropy": 0.8},
  ])
  path = os.path.join(tmp_path, "curves.png")
  keys = report.plot_training_curves(path, str(tmp_path))
  assert keys == ["grad_norm", "loss", "assignment_entropy",
                  "groups_used_in_batch"]
  assert os.path.getsize(path) > 0
  assert logs.read(str(tmp_path))[20]["loss"] == 2.5


def test_training_curves_without_a_log(tmp_path):
  path = os.path.join(tmp_path, "curves.png")
  assert report.plot_training_curves(path, str(tmp_path)) == []
  assert not os.path.exists(path)


def test_accuracy_vs_time_needs_two_evaluations(tmp_path):
  row = {"step": 0, "wall_s": 0.0, "vinyals_test/20way_1shot": 0.3}
  _write_log(tmp_path, "eval", [row])
  path = os.path.join(tmp_path, "acc.png")
  assert not report.plot_accuracy_vs_time(path, str(tmp_path))
  _write_log(tmp_path, "eval", [row, dict(row, step=500, wall_s=600.0,
                                          **{"vinyals_test/20way_1shot": 0.9})])
  assert report.plot_accuracy_vs_time(path, str(tmp_path))
  assert os.path.getsize(path) > 0


def test_compare_runs_by_step(tmp_path, capsys):
  for name, acc in (("a", 0.9), ("b", 0.8)):
    os.makedirs(tmp_path / name)
    _write_log(tmp_path / name, "eval", [
        {"step": s, "wall_s": 10.0 * s, "vinyals_test/20way_1shot": acc,
         "vinyals_test/5way_1shot": acc} for s in (0, 500)])
  os.makedirs(tmp_path / "empty")
  path = str(tmp_path / "cmp.png")
  report.main(["--runs", str(tmp_path), "--compare", path, "a", "b", "empty"])
  assert os.path.getsize(path) > 0 and path in capsys.readouterr().out
  with pytest.raises(SystemExit, match="eval_log"):
    report.main(["--runs", str(tmp_path), "--compare", path, "empty"])
