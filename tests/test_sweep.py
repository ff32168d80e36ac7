"""The resumable sweep: job order, skipping finished runs, naming failed
ones, and the paced training time."""
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import ml_collections
import pytest

from conftest import TFDS_DIR, needs_tfds, tiny_config
from grouprep import checkpoints
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


def test_a_diverged_run_is_recorded_and_not_retried(tmp_path, monkeypatch):
  """A non-finite loss would meet the same batches again on resume: the
  default runner records it (diverged.json, with the step count) and the
  sweep names it again without retraining; a tuning sweep (diverged_ok)
  takes it as a result; at another step count it is a new run."""
  from grouprep import errors  # pylint: disable=g-import-not-at-top
  from grouprep import train  # pylint: disable=g-import-not-at-top
  trained = []

  def diverging_train(config, wd):
    trained.append((config.name, config.train.num_steps))
    os.makedirs(wd, exist_ok=True)
    raise errors.NonFiniteLossError(f"Non-finite at step 3 in {wd}", step=3)

  monkeypatch.setattr(train, "train", diverging_train)
  runs = str(tmp_path)

  def config_for(steps, learning_rate=1e-3):
    def make(name, seed):
      config = tiny_config()
      config.name, config.seed = name, seed
      config.train.num_steps, config.train.learning_rate = (steps,
                                                            learning_rate)
      return config
    return make

  jobs = sweep.order(["a", "b"], [0])
  failed = sweep.run(jobs, runs, 5, config_for(5))
  assert [f.split(":")[0] for f in failed] == ["a seed 0", "b seed 0"]
  assert "NonFiniteLossError: Non-finite at step 3" in failed[0]
  wd = sweep.workdir(runs, "a", 0)
  assert sweep.diverged(wd, 5).startswith("Non-finite at step 3")
  assert sweep.diverged(wd, 6) is None and not sweep.finished(wd, 5)
  assert trained == [("a", 5), ("b", 5)]
  # What a study's table says of the runs it leaves out.
  def missing(names, seeds, steps):
    return sweep.missing_runs(
        runs, sweep.load_results(runs, names, seeds, steps), names, seeds,
        steps)
  assert missing(["a", "c"], [0, 1], 5) == {
      "a": {0: "diverged by step 3", 1: "not finished"},
      "c": {0: "not finished", 1: "not finished"}}
  assert missing(["a"], [0], 6) == {"a": {0: "not finished"}}
  finished = sweep.workdir(runs, "c", 1)  # a finished run is not missing
  os.makedirs(finished)
  with open(os.path.join(finished, "metrics.json"), "w") as f:
    json.dump({"step": 5}, f)
  assert missing(["c"], [1], 5) == {}
  again = sweep.run(jobs, runs, 5, config_for(5))
  assert trained == [("a", 5), ("b", 5)]  # not retried
  assert [f.split(":")[0] for f in again] == ["a seed 0", "b seed 0"]
  assert sweep.run(jobs, runs, 5, config_for(5), diverged_ok=True) == []
  sweep.run(jobs[:1], runs, 6, config_for(6))
  assert trained[-1] == ("a", 6)
  # A tuning sweep: a fresh divergence is no failure either.
  assert sweep.run(sweep.order(["c"], [0]), runs, 5, config_for(5),
                   diverged_ok=True) == []
  # Other settings (no checkpoint was written before the divergence): the
  # record is set aside with its folder and the new settings trained.
  sweep.run(jobs[1:], runs, 5, config_for(5, learning_rate=3e-3))
  assert trained[-1] == ("b", 5)
  assert os.path.exists(sweep.workdir(runs, "b", 0) + ".other-config-1")


def _metric_runner(trained, says_its_config=True):
  """A runner that logs and writes a finished metrics.json whose value
  depends on the config's learning rate, noting each run it trains; it
  writes run_config.json first, as the default runner does."""
  def runner(config, wd):
    trained.append((config.name, config.seed))
    os.makedirs(wd, exist_ok=True)
    if says_its_config:
      sweep.write_run_config(wd, json.loads(config.to_json_best_effort()))
    logs.append(wd, "train", config.train.num_steps, {"loss": 1.0,
                                                      "wall_s": 2.0})
    logs.append(wd, "eval", config.train.num_steps, {"ratio": 0.5})
    with open(os.path.join(wd, "metrics.json"), "w") as f:
      json.dump({"step": config.train.num_steps, "eval": {
          "score": config.train.learning_rate * 1000 + config.seed}}, f)
  return runner


def _tiny(steps, learning_rate=1e-3):
  def make(name, seed):
    config = tiny_config()
    config.name, config.seed = name, seed
    config.train.num_steps, config.train.learning_rate = steps, learning_rate
    return config
  return make


def _with_new_evaluator(name, seed):
  """_tiny(5)'s config with an evaluator added since."""
  config = _tiny(5)(name, seed)
  config.evals.brand_new = ml_collections.ConfigDict()
  return config


def test_records_give_a_fresh_checkout_its_finished_runs(tmp_path):
  """A sweep with records keeps each finished run's record; on a fresh
  machine (runs/ gone) the same sweep trains nothing and reads the same
  results, logs included. A record of other settings is not restored: the
  run is trained, and the old record moved aside, from where a sweep of the
  old settings restores it again. Another step count is another run."""
  runs, records = str(tmp_path / "runs"), str(tmp_path / "records")
  jobs = sweep.order(["a", "b"], [0, 1])
  trained = []
  assert sweep.run(jobs, runs, 5, _tiny(5), _metric_runner(trained),
                   records=records) == []
  assert len(trained) == 4
  first = sweep.load_results(runs, ["a", "b"], [0, 1], 5)
  assert sorted(os.listdir(sweep.workdir(records, "a", 0))) == [
      "eval_log.jsonl", "metrics.json", "run_config.json", "train_log.jsonl"]
  shutil.rmtree(runs)  # a fresh checkout
  assert sweep.run(jobs, runs, 5, _tiny(5), _metric_runner(trained),
                   records=records) == []
  assert len(trained) == 4  # nothing trained again
  assert sweep.load_results(runs, ["a", "b"], [0, 1], 5) == first
  assert logs.read(sweep.workdir(runs, "b", 1), "eval") == {
      5: {"step": 5, "ratio": 0.5}}
  # Other settings: not restored; trained, the old record moved aside.
  shutil.rmtree(runs)
  assert sweep.run([("a", 0)], runs, 5, _tiny(5, 3e-3),
                   _metric_runner(trained), records=records) == []
  assert trained[-1] == ("a", 0) and len(trained) == 5
  record = sweep.workdir(records, "a", 0)
  with open(os.path.join(record, "metrics.json")) as f:
    assert json.load(f)["eval"]["score"] == pytest.approx(3.0)
  assert sweep.recorded(record + ".other-config-1", 5, _tiny(5)("a", 0))
  # Back to the old settings: restored from the record set aside.
  shutil.rmtree(runs)
  assert sweep.run([("a", 0)], runs, 5, _tiny(5), _metric_runner(trained),
                   records=records) == []
  assert len(trained) == 5
  assert sweep.load_results(runs, ["a"], [0], 5)["a"][0] == first["a"][0]
  assert sweep.run([("a", 0)], runs, 5, _tiny(5), records=records,
                   train=False) == []
  assert not os.path.exists(record + ".other-config-2")  # nothing doubled
  # A restored run is set aside, like a checkpoint, under other settings.
  wd = sweep.workdir(runs, "a", 0)
  other = sweep.written_by_another(wd, _tiny(5, 3e-3)("a", 0))
  assert "config.train.learning_rate=" in other
  assert "--workdir" not in other  # the sweep moves it; no advice to a user
  # Another step count is another run.
  shutil.rmtree(runs)
  sweep.run([("a", 1)], runs, 6, _tiny(6), _metric_runner(trained),
            records=records)
  assert trained[-1] == ("a", 1)


def test_a_record_evaluated_otherwise_is_not_restored(tmp_path, capsys):
  """What a record holds is numbers: an evaluator added since, or another
  evaluation setting, makes it stale; an unreadable record is warned of
  and trained again; a part of the same run in the workdir is moved aside
  when the record is restored."""
  runs, records = str(tmp_path / "runs"), str(tmp_path / "records")
  trained = []
  sweep.run([("a", 0)], runs, 5, _tiny(5), _metric_runner(trained),
            records=records)

  with_new_evaluator = _with_new_evaluator

  shutil.rmtree(runs)
  sweep.run([("a", 0)], runs, 5, with_new_evaluator, _metric_runner(trained),
            records=records)
  assert len(trained) == 2
  # Unreadable (a half-written or conflicted file): trained again.
  record = sweep.workdir(records, "a", 0)
  with open(os.path.join(record, "metrics.json"), "w") as f:
    f.write("<<<<<<< HEAD\n")
  shutil.rmtree(runs)
  sweep.run([("a", 0)], runs, 5, with_new_evaluator, _metric_runner(trained),
            records=records)
  assert len(trained) == 3
  assert "is unreadable" in capsys.readouterr().err
  # A partial run of the same config is moved aside, not mixed in.
  wd = sweep.workdir(runs, "a", 0)
  shutil.rmtree(runs)
  os.makedirs(os.path.join(wd, "checkpoints"))
  sweep.run([("a", 0)], runs, 5, with_new_evaluator,
            _metric_runner(trained), records=records)
  assert len(trained) == 3  # restored, not trained
  assert sweep.finished(wd, 5)
  assert not os.path.exists(os.path.join(wd, "checkpoints"))
  assert os.path.isdir(os.path.join(wd + ".partial-1", "checkpoints"))


def test_a_done_run_evaluated_otherwise_is_set_aside_and_trained_again(
    tmp_path):
  """A finished workdir whose own config says it was evaluated otherwise
  (an evaluator added since) is not this sweep's run: moved aside and
  trained again here too, so this machine's tables are a fresh one's."""
  runs, records = str(tmp_path / "runs"), str(tmp_path / "records")
  trained = []
  sweep.run([("a", 0)], runs, 5, _tiny(5), _metric_runner(trained),
            records=records)

  with_new_evaluator = _with_new_evaluator

  wd = sweep.workdir(runs, "a", 0)
  assert sweep.stale(wd, 5, with_new_evaluator("a", 0)).startswith(
      "its evaluators were")
  assert sweep.stale(wd, 5, _tiny(5)("a", 0)) is None
  sweep.run([("a", 0)], runs, 5, with_new_evaluator, _metric_runner(trained),
            records=records)
  assert len(trained) == 2 and os.path.isdir(wd + ".other-config-1")
  # An evaluation field added since (absent from the record's config) is
  # taken to have had its default: the record stands.
  def with_new_field(name, seed):
    config = with_new_evaluator(name, seed)
    config.eval.brand_new_field = 3
    return config
  assert sweep.stale(wd, 5, with_new_field("a", 0)) is None


def test_two_copies_of_one_run_keep_the_first_record(tmp_path):
  """Two runs folders holding the same run (a GPU's and this machine's)
  do not overwrite each other's record back and forth."""
  records = str(tmp_path / "records")
  for i, runs in enumerate(("runs_cpu", "runs_gpu")):
    runs = str(tmp_path / runs)
    sweep.run([("a", 0)], runs, 5, _tiny(5), _metric_runner([]))
    with open(os.path.join(sweep.workdir(runs, "a", 0), "metrics.json"),
              "w") as f:
      json.dump({"step": 5, "eval": {"score": float(i)}}, f)
  record = sweep.workdir(records, "a", 0)
  for _ in range(2):
    for runs in ("runs_cpu", "runs_gpu"):
      sweep.run([("a", 0)], str(tmp_path / runs), 5, _tiny(5),
                records=records, train=False)
      with open(os.path.join(record, "metrics.json")) as f:
        assert json.load(f)["eval"]["score"] == 0.0
  assert os.listdir(os.path.dirname(record)) == ["seed0"]


def test_a_save_killed_part_way_is_recovered(tmp_path):
  """A record left at RECORD.replaced (killed between the renames) is put
  back; a stale .replaced or .saving beside a record is removed."""
  runs, records = str(tmp_path / "runs"), str(tmp_path / "records")
  sweep.run([("a", 0)], runs, 5, _tiny(5), _metric_runner([]),
            records=records)
  record = sweep.workdir(records, "a", 0)
  os.rename(record, record + ".replaced")
  os.makedirs(record + ".saving")
  shutil.rmtree(runs)
  trained = []
  sweep.run([("a", 0)], runs, 5, _tiny(5), _metric_runner(trained),
            records=records)
  assert trained == [] and sweep.recorded(record, 5, _tiny(5)("a", 0))
  assert sorted(os.listdir(os.path.dirname(record))) == ["seed0"]
  shutil.copytree(record, record + ".replaced")
  sweep.save_record(sweep.workdir(runs, "a", 0), record,
                    json.loads(_tiny(5)("a", 0).to_json_best_effort()))
  assert sorted(os.listdir(os.path.dirname(record))) == ["seed0"]


def test_a_summary_leaves_a_run_in_progress_where_it_is(tmp_path):
  """train=False (a --summary-only beside a training sweep) restores into
  empty workdirs only: a run part way stays where its trainer writes."""
  runs, records = str(tmp_path / "runs"), str(tmp_path / "records")
  sweep.run([("a", 0)], runs, 5, _tiny(5), _metric_runner([]),
            records=records)
  shutil.rmtree(runs)
  wd = sweep.workdir(runs, "a", 0)
  os.makedirs(os.path.join(wd, "checkpoints"))
  sweep.run([("a", 0)], runs, 5, _tiny(5), records=records, train=False)
  assert not sweep.finished(wd, 5) and not os.path.exists(wd + ".partial-1")


def test_a_diverged_record_is_restored_and_not_retried(tmp_path,
                                                       monkeypatch):
  from grouprep import errors  # pylint: disable=g-import-not-at-top
  from grouprep import train  # pylint: disable=g-import-not-at-top
  trained = []

  def diverging_train(config, wd):
    trained.append(config.name)
    os.makedirs(wd, exist_ok=True)
    raise errors.NonFiniteLossError(f"Non-finite at step 3 in {wd}")

  monkeypatch.setattr(train, "train", diverging_train)
  runs, records = str(tmp_path / "runs"), str(tmp_path / "records")
  jobs = [("a", 0)]
  assert sweep.run(jobs, runs, 5, _tiny(5), diverged_ok=True,
                   records=records) == []
  shutil.rmtree(runs)
  assert sweep.run(jobs, runs, 5, _tiny(5), diverged_ok=True,
                   records=records) == []
  assert trained == ["a"]
  assert sweep.diverged(sweep.workdir(runs, "a", 0), 5)


def test_records_are_written_for_runs_finished_before_them(tmp_path):
  """A run finished by a sweep without records gets its record on the next
  sweep that keeps them, from the config the run itself recorded (never
  from what the sweep would train now); one that says nothing of its config
  gets none."""
  runs, records = str(tmp_path / "runs"), str(tmp_path / "records")
  trained = []
  sweep.run([("a", 0)], runs, 5, _tiny(5), _metric_runner(trained, False))
  sweep.run([("a", 0)], runs, 5, _tiny(5), records=records, train=False)
  record = sweep.workdir(records, "a", 0)
  assert not os.path.exists(record)  # the fake runner wrote no checkpoint
  wd = sweep.workdir(runs, "a", 0)
  with open(os.path.join(wd, sweep.RUN_CONFIG), "w") as f:
    json.dump(json.loads(_tiny(5)("a", 0).to_json_best_effort()), f)
  sweep.run([("a", 0)], runs, 5, _tiny(5, 3e-3), records=records,
            train=False)
  assert not os.path.exists(record)  # its config is not the sweep's now
  sweep.run([("a", 0)], runs, 5, _tiny(5), records=records, train=False)
  assert sweep.recorded(record, 5, _tiny(5)("a", 0))
  assert len(trained) == 1


@pytest.mark.slow
def test_a_record_of_a_run_finished_before_records_comes_from_its_checkpoint(
    tmp_path, fake_data):
  """A real run finished without records: its record's config is its
  checkpoint's, and a fresh checkout restores it."""
  runs, records = str(tmp_path / "runs"), str(tmp_path / "records")

  def config_for(name, seed):
    config = tiny_config(name)
    config.seed = seed
    return config

  jobs = [("gi_centroid", 0)]
  assert sweep.run(jobs, runs, 6, config_for) == []
  before = sweep.load_results(runs, ["gi_centroid"], [0], 6)
  sweep.run(jobs, runs, 6, config_for, records=records, train=False)
  record = sweep.workdir(records, "gi_centroid", 0)
  with open(os.path.join(record, sweep.RUN_CONFIG)) as f:
    assert json.load(f) == checkpoints.saved_config(
        sweep.workdir(runs, "gi_centroid", 0))[1]
  shutil.rmtree(runs)
  ran = []
  assert sweep.run(jobs, runs, 6, config_for, lambda c, wd: ran.append(wd),
                   records=records) == []
  assert ran == []
  after = sweep.load_results(runs, ["gi_centroid"], [0], 6)
  assert after["gi_centroid"][0]["eval"] == before["gi_centroid"][0]["eval"]


def test_paced_train_seconds_leave_a_pause_out(tmp_path):
  wd = str(tmp_path)
  os.makedirs(os.path.dirname(logs.path(wd, "train")), exist_ok=True)
  # 0.5 s per step, except one interval of 25 steps that took 600 s (the
  # process stopped); the wall clock says 650 s.
  walls = {25: 12.5, 50: 25.0, 75: 625.0, 100: 637.5, 125: 650.0}
  with open(logs.path(wd, "train"), "w") as f:
    for step, wall in walls.items():
      f.write(json.dumps({"step": step, "loss": 1.0, "wall_s": wall}) + "\n")
  assert sweep.seconds_per_step(wd) == pytest.approx(0.5)
  assert sweep.paced_train_seconds(wd) == pytest.approx(0.5 * 125)
  assert sweep.seconds_per_step(str(tmp_path / "none")) is None
  assert sweep.paced_train_seconds(str(tmp_path / "none")) is None


def _recording_runner(config, wd):
  """A picklable runner: prints, then writes a finished metrics.json with
  the process id; the job named "fails" raises, "dies" kills its process."""
  print(f"hello from {config.name}")
  if config.name == "fails":
    raise RuntimeError("boom")
  if config.name == "dies":
    os.kill(os.getpid(), signal.SIGKILL)
  with open(os.path.join(wd, "metrics.json"), "w") as f:
    json.dump({"step": 3, "pid": os.getpid()}, f)


@pytest.mark.slow
def test_workers_run_each_job_in_a_process_of_its_own(tmp_path, capfd):
  runs = str(tmp_path)
  done = sweep.workdir(runs, "a", 0)
  os.makedirs(done)
  with open(os.path.join(done, "metrics.json"), "w") as f:
    json.dump({"step": 3}, f)

  def config_for(name, seed):
    if name == "broken":
      raise ValueError("no such thing")
    return ml_collections.ConfigDict({"name": name, "seed": seed})

  failed = sweep.run(
      sweep.order(["a", "fails", "broken", "dies", "b", "c"], [0]), runs, 3,
      config_for, _recording_runner, workers=2)
  # Named in job order, whichever ended first; a dead worker fails its own
  # job alone.
  assert failed[:2] == ["fails seed 0: RuntimeError: boom",
                        "broken seed 0: ValueError: no such thing"]
  assert failed[2].startswith("dies seed 0: its worker process died (exit "
                              f"code {-signal.SIGKILL})")
  assert len(failed) == 3
  pids = {n: json.load(open(os.path.join(sweep.workdir(runs, n, 0),
                                         "metrics.json")))["pid"]
          for n in ("b", "c")}
  assert len(set(pids.values()) | {os.getpid()}) == 3
  assert "pid" not in json.load(open(os.path.join(done, "metrics.json")))
  # Each job's output, the failed one's traceback too, is in its sweep.log,
  # not in the sweep's own output.
  log = lambda n: open(os.path.join(sweep.workdir(runs, n, 0),
                                    "sweep.log")).read()
  assert "hello from b" in log("b") and "hello from c" not in log("b")
  assert "RuntimeError: boom" in log("fails")
  out = capfd.readouterr().out
  assert "hello from" not in out and "[5/6] b seed 0: done in" in out


@pytest.mark.slow
@needs_tfds
def test_workers_give_the_numbers_of_one_process(tmp_path, monkeypatch):
  """Two smoke runs trained and evaluated in two worker processes equal the
  same runs done one after the other in this process."""
  monkeypatch.setenv("TFDS_DATA_DIR", TFDS_DIR)
  monkeypatch.setenv("GROUPREP_CACHE", str(tmp_path / "cache"))

  def config_for(name, seed):
    config = importlib.import_module(f"configs.{name}").get_config("smoke")
    config.seed = seed
    config.data.image_size = 16
    config.model.width = 8
    config.train.num_steps = 4
    config.train.checkpoint_every = 2
    config.eval.max_characters = 20
    config.evals.theorem1.sampled_items = 256
    return config

  jobs = sweep.order(["gi_centroid", "gg_centroid"], [0])
  assert sweep.run(jobs, str(tmp_path / "one"), 4, config_for) == []
  # A cache of its own, so nothing evaluated above is reused below.
  monkeypatch.setenv("GROUPREP_CACHE", str(tmp_path / "cache2"))
  assert sweep.run(jobs, str(tmp_path / "two"), 4, config_for,
                   workers=2) == []
  for name, seed in jobs:
    one, two = (json.load(open(os.path.join(
        sweep.workdir(str(tmp_path / d), name, seed), "metrics.json")))
                for d in ("one", "two"))
    assert one["eval"] and one["eval"] == two["eval"]
    assert one["untrained"] == two["untrained"]


def test_a_run_of_other_settings_is_set_aside_and_trained_afresh(tmp_path,
                                                               fake_data):
  """A finished run is skipped only when its checkpoint was trained by the
  config the sweep would train now: after a tuning sweep changes a
  configuration's learning rate, the old run is moved aside, untouched, and
  the new one trained, so no table reads the old run as the new."""
  runs = str(tmp_path)
  lr = {"value": 1e-3}

  def config_for(name, seed):
    config = tiny_config(name)
    config.seed = seed
    config.train.learning_rate = lr["value"]
    return config

  jobs = [("gi_centroid", 0)]
  wd = sweep.workdir(runs, "gi_centroid", 0)
  assert sweep.run(jobs, runs, 6, config_for) == []
  before = open(os.path.join(wd, "metrics.json")).read()
  ran = []
  assert sweep.run(jobs, runs, 6, config_for,
                   lambda c, wd: ran.append(wd)) == []
  assert ran == []  # the same settings: skipped
  lr["value"] = 3e-3
  assert sweep.run(jobs, runs, 6, config_for) == []
  assert open(os.path.join(wd + ".other-config-1", "metrics.json")
              ).read() == before
  checkpoints.check_written_by(wd, config_for("gi_centroid", 0).to_dict())
  assert open(os.path.join(wd, "metrics.json")).read() != before


def _sleeping_runner(config, wd):
  """A picklable runner that records its process id, then waits."""
  del config
  with open(os.path.join(wd, "pid"), "w") as f:
    f.write(str(os.getpid()))
  time.sleep(120)


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_stopping_the_sweep_stops_its_workers(tmp_path, how):
  """Ctrl-C or a time limit's SIGTERM to the sweep ends every running
  worker too: none goes on training into a workdir that a rerun resumes."""
  script = tmp_path / "sweep_script.py"
  script.write_text(
      "import signal, sys\n"
      "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
      f"sys.path[:0] = [{os.path.dirname(__file__)!r}]\n"
      "import ml_collections\n"
      "from grouprep import sweep\n"
      "from test_sweep import _sleeping_runner\n"
      "if __name__ == '__main__':\n"
      f"  sweep.run(sweep.order(['a', 'b', 'c'], [0]), {str(tmp_path)!r}, 3,\n"
      "            lambda n, s: ml_collections.ConfigDict({'name': n}),\n"
      "            _sleeping_runner, workers=2)\n")
  parent = subprocess.Popen([sys.executable, str(script)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
  pids = [os.path.join(sweep.workdir(str(tmp_path), n, 0), "pid")
          for n in ("a", "b")]
  deadline = time.time() + 60
  while not all(os.path.exists(p) and open(p).read() for p in pids):
    assert time.time() < deadline and parent.poll() is None
    time.sleep(0.2)
  workers = [int(open(p).read()) for p in pids]
  parent.send_signal(how)
  parent.wait(timeout=30)
  time.sleep(1)
  for pid in workers:
    with pytest.raises(ProcessLookupError):
      os.kill(pid, 0)
  assert not os.path.exists(sweep.workdir(str(tmp_path), "c", 0))
