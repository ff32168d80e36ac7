"""docs/extending.md's worked examples, run as written on the fake Omniglot:
a pooling, a method, an evaluator and a data source, each registered at run
time (the registries are restored afterwards)."""
import dataclasses
import json
import os

import jax
import pytest

from conftest import tiny_config
from doc_blocks import runnable_blocks
from grouprep import logs
from grouprep import pooling
from grouprep.data.sources import registry as sources
from grouprep.evaluators import registry as evaluators
from grouprep.methods import registry as methods


@pytest.fixture
def restored():
  """Registries the examples add to, as they were before the test; and no
  compiled function that traced what they registered (a jitted pooling is
  kept per name and shape)."""
  saved = [(d, dict(d)) for d in (pooling.POOLINGS, methods.METHODS,
                                   evaluators.EVALUATORS, sources.SOURCES)]
  yield
  for d, before in saved:
    d.clear()
    d.update(before)
  jax.clear_caches()


def run_block(name, tmp_path, capsys, config=None):
  """Executes docs/extending.md's block `name` with `config` (default: a
  tiny gi_centroid) and a fresh `workdir`; returns (namespace, stdout)."""
  page, lang, code = runnable_blocks()[name]
  assert (page, lang) == ("docs/extending.md", "python")
  ns = {"config": config or tiny_config(), "workdir": str(tmp_path / "run")}
  exec(compile(code, f"{page}:{name}", "exec"), ns)  # pylint: disable=exec-used
  return ns, capsys.readouterr().out


@pytest.mark.slow
def test_the_pooling_example_trains_and_is_evaluated(
    tmp_path, fake_data, restored, capsys):
  ns, out = run_block("pooling", tmp_path, capsys)
  ratio = ns["result"]["eval"]["unseen_alphabets"]["distance"]["ratio"]
  assert out.strip().splitlines()[-1] == str(ratio) and ratio > 0
  with open(os.path.join(ns["workdir"], "metrics.json")) as f:
    assert json.load(f)["pooling"] == "weighted_by_norm"


@pytest.mark.slow
def test_the_method_example_trains_and_logs_its_terms(
    tmp_path, fake_data, restored, capsys):
  ns, _ = run_block("method", tmp_path, capsys)
  log = logs.read(ns["workdir"])
  last = log[max(log)]
  assert last["loss"] == pytest.approx(last["group_item"] + last["group_group"],
                                       rel=1e-5)
  # It pools with the centroid in its loss: a config that would evaluate
  # other groups is refused before training.
  from grouprep import errors  # pylint: disable=g-import-not-at-top
  from grouprep import validation  # pylint: disable=g-import-not-at-top
  config = ns["config"]
  config.loss.pooling = "medoid"
  with pytest.raises(errors.ConfigError,
                     match="pools its groups with 'centroid' in its loss"):
    validation.validate(config)


@pytest.mark.slow
def test_the_evaluator_example_runs_on_both_encoders(
    tmp_path, fake_data, restored, capsys):
  config = tiny_config()
  config.evals.fewshot.episodes = 20
  ns, _ = run_block("evaluator", tmp_path, capsys, config)
  m = ns["result"]
  for encoder in ("eval", "untrained"):
    for split in ("unseen_alphabets", "heldout_characters"):
      spread = m[encoder][split]["spread"]
      assert 0 < spread["mean"] and 0 < spread["quantile"]
  # Its settings are checked before any data is read.
  from grouprep import errors  # pylint: disable=g-import-not-at-top
  from grouprep import validation  # pylint: disable=g-import-not-at-top
  config.evals.spread.quantile = 1.5
  with pytest.raises(errors.ConfigError, match="evals.spread.quantile"):
    validation.validate(config)
  # Its scalars let it log during training; without them it is refused,
  # saying why.
  config.evals.spread.quantile = 0.9
  config.eval.during_training.spread = {"quantile": 0.5}
  validation.validate(config)
  assert evaluators.EVALUATORS["spread"].scalars(m["eval"][
      "unseen_alphabets"]) == {"spread": m["eval"]["unseen_alphabets"][
          "spread"]["mean"]}
  evaluators.EVALUATORS["spread"] = dataclasses.replace(
      evaluators.EVALUATORS["spread"], scalars=None)  # `restored` undoes it
  with pytest.raises(errors.ConfigError, match="has no `scalars`"):
    validation.validate(config)


@pytest.mark.slow
def test_the_data_source_example_trains_and_skips_what_it_lacks(
    tmp_path, restored, capsys):
  config = tiny_config()
  config.evals.fewshot.episodes = 20
  ns, out = run_block("data-source", tmp_path, capsys, config)
  m = ns["result"]
  assert list(m["eval"]) == ["stripes_heldout"]
  held = m["eval"]["stripes_heldout"]
  assert held["num_labels"] == 5 and held["num_groups"] == 15
  assert {"distance", "retrieval", "item_to_group_accuracy",
          "fewshot"} <= set(held)
  assert set(m["skipped_evaluators"]) == {"theorem1", "disjoint_characters",
                                          "lake"}
  assert out.strip().splitlines()[-1] == (
      "['stripes_heldout'] ['disjoint_characters', 'lake', 'theorem1']")
