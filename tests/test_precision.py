"""The precision policy: training and evaluation run their matmuls and
convolutions at config.train / config.eval.matmul_precision."""
import jax
import numpy as np
import pytest

from conftest import tiny_config
from grouprep import errors
from grouprep import evaluate
from grouprep import train
from grouprep import validation


def _precision_now():
  return jax.config.jax_default_matmul_precision


def test_the_step_is_traced_at_the_configured_precision(monkeypatch):
  seen = []

  def step(state, images, labels, group_ids, method):
    del images, labels, group_ids, method
    seen.append(_precision_now())
    return state, {"loss": state.sum()}

  monkeypatch.setattr(train, "train_step", step)
  before = _precision_now()
  p_step = train.make_p_train_step(None, jax.local_devices()[:1],
                                   "tensorfloat32")
  p_step(*[np.zeros((1, 2), np.float32)] * 4)
  assert seen == ["tensorfloat32"]
  assert _precision_now() == before  # nothing leaks out of the step


def test_a_precision_reaches_the_compiled_dots():
  """What the context sets is what XLA is asked for (HIGHEST vs DEFAULT)."""
  f = lambda a: a @ a
  x = np.ones((4, 4), np.float32)
  for name, want in (("highest", "HIGHEST"), ("default", "DEFAULT")):
    with jax.default_matmul_precision(name):
      text = jax.jit(f).lower(x).as_text()
    assert f"precision = [{want}, {want}]" in text, text


def test_evaluation_runs_at_the_configured_precision(monkeypatch, tmp_path):
  seen = []
  monkeypatch.setattr(evaluate, "_evaluate",
                      lambda config, workdir: seen.append(_precision_now()))
  config = tiny_config()
  config.eval.matmul_precision = "high"
  evaluate.evaluate(config, str(tmp_path))
  assert seen == ["high"]


@pytest.mark.parametrize("field", ["train.matmul_precision",
                                   "eval.matmul_precision"])
def test_an_unknown_precision_is_named(field):
  config = tiny_config()
  section, key = field.split(".")
  config[section][key] = "fp8"
  with pytest.raises(errors.ConfigError, match=field):
    validation.validate(config)


@pytest.mark.skipif(jax.default_backend() != "cpu",
                    reason="elsewhere 'default' is TF32 or bfloat16")
def test_cpu_training_is_the_same_at_every_precision(tmp_path, fake_data,
                                                     monkeypatch):
  """On a CPU every precision computes in float32: the same parameters,
  though each run's step was built at its own config's precision."""
  params, built_at = {}, []
  real = train.make_p_train_step

  def recording(method, devices=None, precision="highest"):
    built_at.append(precision)
    return real(method, devices, precision)

  monkeypatch.setattr(train, "make_p_train_step", recording)
  for precision in ("highest", "default"):
    config = tiny_config()
    config.train.num_steps = 2
    config.train.matmul_precision = precision
    state = train.train(config, str(tmp_path / precision))
    params[precision] = jax.tree.leaves(state.params)
  assert built_at == ["highest", "default"]
  for a, b in zip(params["highest"], params["default"]):
    np.testing.assert_array_equal(a, b)


def test_a_run_resumes_only_at_its_own_precision(tmp_path, fake_data):
  from grouprep import checkpoints  # pylint: disable=g-import-not-at-top
  config = tiny_config()
  config.train.num_steps = 2
  train.train(config, str(tmp_path))
  config.train.num_steps = 4
  config.train.matmul_precision = "default"
  with pytest.raises(checkpoints.CheckpointError,
                     match="train.matmul_precision"):
    train.train(config, str(tmp_path))


def test_metrics_record_the_training_precision_and_stack(tmp_path, fake_data):
  config = tiny_config()
  config.train.matmul_precision = "default"
  train.train(config, str(tmp_path))
  m = evaluate.evaluate(config, str(tmp_path))
  assert m["matmul_precision"] == {"train": "default", "eval": "highest"}
  assert m["trained_stack"]["jax"] == jax.__version__
  assert m["stack"]["platform"] == jax.default_backend()
