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
  with pytest.raises(SystemExit, match="eval.every > 0"):
    report.main(["--runs", str(tmp_path), "--compare", path, "empty"])
  # A name that is not a run folder under --runs is named as such.
  with pytest.raises(SystemExit, match="No run folder.*nowhere"):
    report.main(["--runs", str(tmp_path), "--compare", path, "a", "nowhere"])


def test_protonet_summary_and_its_docs_block_read_the_one_test_reading(
    tmp_path, monkeypatch):
  """The reported run's Vinyals test numbers reach summary.md, a copy of
  its metrics.json, and the docs block, each as measured."""
  from projects.group_note import docs  # pylint: disable=g-import-not-at-top
  run = tmp_path / "runs" / "protonet_final"
  run.mkdir(parents=True)
  fewshot = {k: {"mean": 0.9 + i / 100, "ci95": 0.001 * (i + 1),
                 "episodes": 1000}
             for i, k in enumerate(docs.PROTONET_PAPER)}
  floor = {k: {"mean": 0.3 + i / 100, "ci95": 0.002, "episodes": 1000}
           for i, k in enumerate(docs.PROTONET_PAPER)}
  metrics = {"config": "protonet", "step": 8000, "fewshot_queries": 15,
             "eval": {"vinyals_test": {"fewshot": fewshot}},
             "untrained": {"vinyals_test": {"fewshot": floor}},
             "lake_one_shot_error_runs09_20_raw_pixels": 0.82}
  (run / "metrics.json").write_text(json.dumps(metrics))
  _write_log(str(run), "train", [{"step": 8000, "loss": 0.1, "wall_s": 10}])
  results = tmp_path / "results"
  out = results / "protonet"
  assert "the one reading" not in docs.protonet_block(str(results))
  assert "has not been made yet" in docs.protonet_block(str(results))
  report.write_summary([str(run)], str(out))
  summary = (out / "summary.md").read_text()
  assert "| protonet | 0.9000 ± 0.0010 | 0.9100 ± 0.0020 | 0.9200 ± 0.0030 " \
         "| 0.9300 ± 0.0040 | 8000 |" in summary
  # Its floors: the untrained encoder on the same episodes, raw pixels on
  # the Lake runs it may be read on.
  assert "| untrained conv4 (as for protonet) | 0.3000 ± 0.0020 | " \
         "0.3100 ± 0.0020 | 0.3200 ± 0.0020 | 0.3300 ± 0.0020 | – | – |" \
         in summary
  assert "Raw-pixel nearest neighbour on Lake's runs 09-20: error 0.820." \
      in summary
  assert json.loads((out / "protonet_final_metrics.json").read_text()) == \
      metrics
  assert not (out / "protonet_final_config.json").exists()  # no checkpoint
  config = {"seed": 1, "data": {"train_split": "vinyals_trainval"},
            "eval": {"every": 0}}
  (out / "protonet_final_config.json").write_text(json.dumps(config))
  block = docs.protonet_block(str(results))
  assert ("| 20-way 1-shot | 0.9200 ± 0.0030 | 0.3200 ± 0.0020 | – | "
          "0.960 |") in block
  assert ("| 5-way 5-shot | 0.9100 ± 0.0020 | 0.3100 ± 0.0020 | – | "
          "0.997 |") in block
  assert "raw pixels (not evaluated: `python -m projects.group_note.pixels " \
      "--protonet`)" in block
  # ProtoNet's raw-pixel floor, written by its command (its evaluation is
  # the study's pixel rows', tested there), is the block's third column.
  from projects.group_note import pixels  # pylint: disable=g-import-not-at-top
  raw = {k: {"mean": 0.2 + i / 100, "ci95": 0.003} for i, k in
         enumerate(docs.PROTONET_PAPER)}
  seen = []

  def evaluate_pixels(config):
    seen.append((config.name, config.seed, config.data.train_split))
    return {"config": "x", "eval": {"vinyals_test": {"fewshot": raw}},
            "image_size": 28}

  monkeypatch.setattr(pixels, "evaluate_pixels", evaluate_pixels)
  assert pixels.main(["--protonet", f"--out={results}"]) == 0
  assert seen == [("protonet", 1, "vinyals_trainval")]  # as :final
  block = docs.protonet_block(str(results))
  assert ("| 20-way 1-shot | 0.9200 ± 0.0030 | 0.3200 ± 0.0020 | "
          "0.2200 ± 0.0030 | 0.960 |") in block
  assert "| raw pixels (28 px) |" in block
  assert "(8000 steps on vinyals_trainval, seed 1, no evaluation during " \
         "training;" in block


def test_stacks_sentence_counts_the_runs_of_each_stack():
  """report.stacks_sentence: one stack named once with its count; several
  each with theirs, most runs first; a run without trained_stack is 'not
  recorded'; jaxlib only where it differs from jax; a GPU by its kind."""
  cpu = {"python": "3.12.1", "jax": "0.12.0.1", "jaxlib": "0.12.0.1",
         "platform": "cpu", "device_kind": "cpu", "cpu": "AMD EPYC",
         "cpu_tag": "cpu-09d7978d249f"}
  gpu = {"python": "3.12.3", "jax": "0.12.0", "jaxlib": "0.12.0.1",
         "platform": "gpu", "device_kind": "NVIDIA H200"}
  old = {k: cpu[k] for k in ("python", "jax", "jaxlib", "platform",
                             "device_kind")}  # recorded before the CPU was
  run = lambda s: {"trained_stack": s}
  assert report.stacks_sentence([run(cpu)] * 3) == (
      "Trained on one stack: Python 3.12.1, jax 0.12.0.1, cpu (AMD EPYC, "
      "cpu-09d7978d249f) (3 runs).")
  assert report.stacks_sentence([run(gpu), run(old), run(old), {}]) == (
      "Trained on 3 stacks, which round differently: Python 3.12.1, jax "
      "0.12.0.1, cpu (2 runs); Python 3.12.3, jax 0.12.0, jaxlib 0.12.0.1, "
      "gpu (NVIDIA H200) (1 run); not recorded (1 run).")
  assert report.stacks_sentence([]) == ""
