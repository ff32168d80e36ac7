"""Crashes, corrupt and foreign checkpoints, failed saves, NaNs, determinism."""
import glob
import json
import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from conftest import TFDS_DIR, needs_tfds, tiny_config
from grouprep import checkpoints
from grouprep import evaluate
from grouprep import models
from grouprep import train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def leaves(tree):
  return [np.asarray(x) for x in jax.tree.leaves(tree)]


def restore(config, workdir):
  model = models.create_model(config.model)
  fresh = train.create_train_state(config, model, (16, 16, 1))
  return checkpoints.restore_latest(checkpoints.manager(workdir), fresh,
                                    config.to_dict())


def corrupt(workdir, step):
  files = [f for f in glob.glob(f"{workdir}/checkpoints/{step}/state/**/*",
                                recursive=True) if os.path.isfile(f)]
  assert files
  for f in files:
    with open(f, "wb") as fh:
      fh.write(b"\0garbage")


@pytest.mark.slow
def test_corrupt_latest_checkpoint_falls_back_to_the_previous(tmp_path,
                                                              fake_data, capfd):
  config = tiny_config()
  full = train.train(config, str(tmp_path / "full"))
  wd = str(tmp_path / "wd")
  train.train(config, wd)
  corrupt(wd, 6)
  step, _ = restore(config, wd)
  assert step == 4
  assert "step 6" in capfd.readouterr().err
  resumed = train.train(config, wd)  # redoes steps 5-6 over the bad one
  for a, b in zip(leaves(full), leaves(resumed)):
    np.testing.assert_array_equal(a, b)
  assert restore(config, wd)[0] == 6


@pytest.mark.slow  # fast lane under 2 min
def test_no_readable_checkpoint_is_a_clear_error(tmp_path, fake_data):
  config = tiny_config()
  config.train.keep_checkpoints = 1
  train.train(config, str(tmp_path))
  corrupt(str(tmp_path), 6)
  with pytest.raises(checkpoints.CheckpointError, match="No readable checkpoint"):
    train.train(config, str(tmp_path))


@pytest.mark.slow  # fast lane under 2 min
def test_checkpoint_of_another_seed_names_the_field(tmp_path, fake_data):
  train.train(tiny_config(), str(tmp_path))
  other = tiny_config()
  other.seed = 1
  with pytest.raises(checkpoints.CheckpointError, match="config.seed=0 there"):
    train.train(other, str(tmp_path))


@pytest.mark.slow  # fast lane under 2 min
def test_failed_save_keeps_the_last_good_checkpoint(tmp_path, fake_data,
                                                    monkeypatch):
  config = tiny_config()
  real_save = checkpoints.ocp.CheckpointManager.save

  def disk_full(self, step, *args, **kwargs):
    if step == 4:
      raise OSError(28, "No space left on device")
    return real_save(self, step, *args, **kwargs)

  monkeypatch.setattr(checkpoints.ocp.CheckpointManager, "save", disk_full)
  with pytest.raises(checkpoints.CheckpointError,
                     match=r"step 4.*No space left.*\(step 2\) is untouched"):
    train.train(config, str(tmp_path))
  monkeypatch.undo()
  step, state = restore(config, str(tmp_path))
  assert step == 2 and int(state.step) == 2


@pytest.mark.slow
def test_a_save_failing_in_the_background_keeps_the_last_good_checkpoint(
    tmp_path, fake_data, monkeypatch):
  """Training saves asynchronously: a write that fails in Orbax's background
  thread (here: a metadata item JSON cannot encode) stops the run with the
  CheckpointError of that step, naming the last good checkpoint, which
  stays readable; the same command then resumes from it."""
  config = tiny_config()
  real_save = checkpoints.save

  def unwritable_at_4(mngr, step, state, config_dict, metadata=None):
    if step == 4:
      metadata = dict(metadata, unwritable=object())
    return real_save(mngr, step, state, config_dict, metadata)

  monkeypatch.setattr(checkpoints, "save", unwritable_at_4)
  with pytest.raises(checkpoints.CheckpointError,
                     match=r"step 4.*not JSON serializable.*\(step 2\) is "
                     r"untouched"):
    train.train(config, str(tmp_path))
  monkeypatch.setattr(checkpoints, "save", real_save)
  step, state = restore(config, str(tmp_path))
  assert step == 2 and int(state.step) == 2
  assert int(train.train(config, str(tmp_path)).step) == 6
  assert restore(config, str(tmp_path))[0] == 6


def test_non_finite_loss_stops_and_keeps_the_good_checkpoint(
    tmp_path, fake_data, monkeypatch):
  config = tiny_config()
  real = train.make_p_train_step

  def poisoned(method, devices=None, precision="highest"):
    step, calls = real(method, devices, precision), []

    def run(state, images, labels, group_ids):
      calls.append(1)
      state, metrics = step(state, images, labels, group_ids)
      if len(calls) >= 3:
        metrics = dict(metrics, loss=metrics["loss"] * np.nan)
      return state, metrics

    return run

  monkeypatch.setattr(train, "make_p_train_step", poisoned)
  # NaN from the third step on, found at the next log line (step 4).
  with pytest.raises(train.NonFiniteLossError,
                     match=r"by step 4 \(checked at each log line") as error:
    train.train(config, str(tmp_path))
  assert error.value.step == 4
  assert checkpoints.manager(str(tmp_path)).all_steps() == [2]


@pytest.mark.slow
def test_same_config_twice_gives_identical_metrics(tmp_path, fake_data,
                                                   monkeypatch):
  # Both runs compute their untrained encoder's evaluation (the second
  # would otherwise read the first's, comparing it with itself).
  monkeypatch.setenv("GROUPREP_REUSE_UNTRAINED", "0")
  config = tiny_config()
  config.evals.fewshot.episodes = 50
  results = []
  for run in ("a", "b"):
    train.train(config, str(tmp_path / run))
    m = evaluate.evaluate(config, str(tmp_path / run))
    m.pop("eval_seconds")
    results.append(m)
  assert results[0] == results[1]


# --------------------------------------------------------------------------
# kill -9 on the real command line.
# --------------------------------------------------------------------------
def main_cmd(workdir, *extra, name="gi_centroid"):
  return [sys.executable, "-m", "grouprep.main",
          f"--config=configs/{name}.py:smoke", f"--workdir={workdir}",
          "--config.train.num_steps=40", "--config.train.checkpoint_every=5",
          *extra]


@pytest.mark.slow
@needs_tfds
@pytest.mark.parametrize("name", ["gi_centroid", "gi_centroid_prototypes"])
def test_sigkill_then_rerun_matches_an_uninterrupted_run(tmp_path, name):
  env = dict(os.environ, TFDS_DATA_DIR=TFDS_DIR)
  full, cut = tmp_path / "full", tmp_path / "cut"
  # Two evaluators: the state is compared bit for bit; metrics.json only
  # has to follow from it (test_same_config_twice_gives_identical_metrics
  # covers every evaluator's determinism).
  evals = "--config.eval.only=('distance','fewshot')"
  subprocess.run(main_cmd(full, evals, name=name), cwd=ROOT, env=env,
                 check=True, capture_output=True, timeout=600)
  proc = subprocess.Popen(main_cmd(cut, "--mode=train", evals, name=name),
                          cwd=ROOT,
                          env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.time() + 300
  while time.time() < deadline and not os.path.isdir(cut / "checkpoints" / "15"):
    time.sleep(0.2)
  assert proc.poll() is None, "the run finished before it could be killed"
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  steps = [int(s) for s in os.listdir(cut / "checkpoints") if s.isdigit()]
  assert 15 <= max(steps) < 40
  r = subprocess.run(main_cmd(cut, evals, name=name), cwd=ROOT, env=env,
                     capture_output=True, text=True, timeout=600)
  assert r.returncode == 0, r.stderr[-3000:]
  assert "Resumed from the checkpoint at step" in r.stdout + r.stderr
  # The same state (parameters, optimizer, the method's state such as the
  # prototype table), bit for bit, and the same metrics.
  config = __import__(f"configs.{name}", fromlist=["x"]).get_config("smoke")
  states = [checkpoints.restore_latest(checkpoints.manager(str(d)), None,
                                       config.to_dict(),
                                       checkpoints.EVAL_IDENTITY_FIELDS)
            for d in (full, cut)]
  assert states[0][0] == states[1][0] == 40
  assert jax.tree.structure(states[0][1]) == jax.tree.structure(states[1][1])
  if name.endswith("prototypes"):
    assert states[0][1]["extra"]["prototypes"].shape == (120, 64)
  for a, b in zip(leaves(states[0][1]), leaves(states[1][1])):
    np.testing.assert_array_equal(a, b)
  m = [json.load(open(d / "metrics.json")) for d in (full, cut)]
  for x in m:
    x.pop("eval_seconds")
  assert m[0] == m[1]


# --------------------------------------------------------------------------
# Multi-host through jax.distributed, two processes on localhost.
# --------------------------------------------------------------------------
def _free_port():
  import socket
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _run_workers(tmp_path, name, num_processes, devices, mode, steps=0,
                 fixed_dir=False):
  """Runs tests/multihost_worker.py as num_processes processes of `devices`
  CPU devices each; (process 0's JSON line, every process's stdout)."""
  worker = os.path.join(ROOT, "tests", "multihost_worker.py")
  # CPU devices (gloo collectives) on any test platform.
  env = {k: v for k, v in os.environ.items()
         if k not in ("XLA_FLAGS", "GROUPREP_TEST_PLATFORM")}
  env["JAX_PLATFORMS"] = "cpu"
  # Each launch computes the untrained encoder's evaluation it compares.
  env["GROUPREP_REUSE_UNTRAINED"] = "0"
  # Two launches at most: the free port can be taken between probe and bind.
  for attempt in range(2):
    port = str(_free_port())
    procs = [subprocess.Popen(
        [sys.executable, worker,
         str(tmp_path / (name if fixed_dir else f"{name}{attempt}")),
         str(num_processes), str(i), port, str(devices), mode,
         str(steps)], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(num_processes)]
    try:
      outs = [p.communicate(timeout=400) for p in procs]
    except subprocess.TimeoutExpired:
      for p in procs:
        p.kill()
      raise
    if all(p.returncode == 0 for p in procs):
      break
    print("multi-process attempt failed:", [o[1][-3000:] for o in outs])
  assert all(p.returncode == 0 for p in procs), [
      (p.returncode, o[1][-2000:]) for p, o in zip(procs, outs)]
  lines = [l for l in outs[0][0].splitlines() if l.startswith("{")]
  assert lines, outs[0][0][-2000:]
  return json.loads(lines[-1]), [o[0] for o in outs]


def _numbers(tree, prefix=""):
  """{path: float} of every number in a metrics tree (timings dropped)."""
  if isinstance(tree, dict):
    out = {}
    for k, v in tree.items():
      if k != "eval_seconds":
        out.update(_numbers(v, f"{prefix}/{k}"))
    return out
  if isinstance(tree, list):
    out = {}
    for i, v in enumerate(tree):
      out.update(_numbers(v, f"{prefix}[{i}]"))
    return out
  if isinstance(tree, (int, float)) and not isinstance(tree, bool):
    return {prefix: float(tree)}
  return {}


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["train", "train_and_eval"])
def test_two_processes_match_one_process_with_two_devices(tmp_path, mode):
  """main.run on 2 jax.distributed processes x 1 device: every process exits
  0, process 0 alone writes the logs and (train_and_eval) metrics.json,
  and the numbers equal 1 process x 2 devices."""
  a, _ = _run_workers(tmp_path, "one", 1, 2, mode)
  b, stdouts = _run_workers(tmp_path, "two", 2, 1, mode)
  assert (a["devices"], a["processes"]) == (2, 1)
  assert (b["devices"], b["processes"]) == (2, 2)
  assert len(a["losses"]) == 3
  np.testing.assert_allclose(a["losses"], b["losses"], rtol=1e-6)
  # Only process 0 writes the training log and evaluates.
  assert not stdouts[1].strip().startswith("{")
  if mode == "train":
    assert a["metrics"] is None and b["metrics"] is None
    return
  # One metrics.json, the one process 0 returned.
  wrote = sorted(glob.glob(str(tmp_path / "two*" / "metrics.json")))
  assert len(wrote) == 1, wrote
  assert json.load(open(wrote[0])) == b["metrics"]
  one, two = _numbers(a["metrics"]), _numbers(b["metrics"])
  assert one.keys() == two.keys() and len(one) > 50
  for key in one:
    np.testing.assert_allclose(two[key], one[key], rtol=1e-6, atol=1e-9,
                               err_msg=key)
  assert b["metrics"]["num_devices"] == 2


@pytest.mark.slow
def test_two_processes_resume_together(tmp_path):
  """2 processes train to step 4, then rerun to 6: both resume at 4 and the
  log equals an uninterrupted 2-process run's."""
  full, _ = _run_workers(tmp_path, "full", 2, 1, "train", steps=6,
                         fixed_dir=True)
  _run_workers(tmp_path, "cut", 2, 1, "train", steps=4, fixed_dir=True)
  cut, outs = _run_workers(tmp_path, "cut", 2, 1, "train", steps=6,
                           fixed_dir=True)
  assert all("Resumed from the checkpoint at step 4" in o for o in outs), outs
  assert len(full["losses"]) == len(cut["losses"]) == 3  # steps 2, 4, 6
  np.testing.assert_allclose(cut["losses"], full["losses"], rtol=1e-6)
