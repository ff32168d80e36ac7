"""The docs hold no number that the code which measures it did not write."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import accelerator_report  # noqa: E402  pylint: disable=g-import-not-at-top
import performance_report  # noqa: E402  pylint: disable=g-import-not-at-top


def test_accelerator_numbers_are_the_checks_own():
  """docs/accelerators.md's GPU block is what results/accelerator_check/
  summary.json renders to (tools/accelerator_report.py)."""
  assert accelerator_report.main(["--check"]) == 0


def test_cpu_performance_numbers_are_the_benchmarks_own():
  """docs/performance.md's CPU block is what results/performance/cpu.jsonl
  (the benchmark's --out lines) renders to (tools/performance_report.py)."""
  assert performance_report.main(["--check"]) == 0


def _run(path, config, step, ratio):
  import json  # pylint: disable=g-import-not-at-top
  os.makedirs(path, exist_ok=True)
  with open(os.path.join(path, "metrics.json"), "w") as f:
    json.dump({"config": config, "step": step, "eval": {
        "unseen_alphabets": {"distance": {"ratio": ratio}}}}, f)
  return str(path)


def test_compare_with_study_bands_and_refuses_other_runs(tmp_path):
  import compare_with_study  # pylint: disable=g-import-not-at-top
  import pytest  # pylint: disable=g-import-not-at-top
  study = {"gi_centroid": {
      "step": {"mean": 2000.0, "sd": 0.0, "n": 3},
      "eval.unseen_alphabets.distance.ratio": {"mean": 5.0, "sd": 0.3,
                                               "n": 3}}}
  band = 3 * 0.3 / 3 ** 0.5
  near = [_run(tmp_path / f"near{i}", "gi_centroid", 2000, 5.0 + d)
          for i, d in enumerate((-0.1, 0.0, 0.1 + band))]
  (row,) = compare_with_study.compare("gi_centroid", near, study)
  assert row["within"] and row["new_n"] == 3
  assert row["new_mean"] == pytest.approx(5.0 + band / 3)
  far = [_run(tmp_path / f"far{i}", "gi_centroid", 2000, 5.0 + band + 0.01)
         for i in range(3)]
  assert not compare_with_study.compare("gi_centroid", far, study)[0]["within"]
  smoke = [_run(tmp_path / "smoke", "gi_centroid", 30, 5.0)]
  with pytest.raises(compare_with_study.MismatchError, match="step 30"):
    compare_with_study.compare("gi_centroid", smoke, study)
