"""evaluate's reuse of the untrained encoder's evaluation: its key follows
everything that changes the numbers, and a reused result equals a fresh
one."""
import os

import numpy as np
import pytest

from conftest import fake_split, tiny_config
from grouprep import evaluate
from grouprep import models
from grouprep import state as state_lib
from grouprep.methods.registry import get_method


def untrained_key(config):
  """The key evaluate computes for config's untrained encoder, the inputs
  loaded as an evaluation of the unseen alphabets loads them."""
  model = models.create_model(config.model)
  size = config.data.image_size
  start = state_lib.initial(config.seed, model, get_method(config.loss),
                            (size, size, 1))
  inputs = evaluate.Inputs.of(config)
  inputs.split("unseen_alphabets")
  view = evaluate.encoder_view(config, model, start.encoder, start.head,
                               inputs)
  return evaluate.untrained_key(config, view, start.encoder, inputs)


@pytest.mark.parametrize("field,value,changes", [
    ("seed", 1, True),
    ("model.width", 16, True),
    ("data.image_size", 20, True),
    ("data.heldout_fraction", 0.3, True),
    ("loss.pooling", "medoid", True),
    ("evals.fewshot.episodes", 10, True),
    ("eval.matmul_precision", "high", True),
    ("eval.only", ("distance",), True),
    ("eval.splits", ("heldout_characters",), True),
    # What the untrained encoder's evaluation does not read.
    ("loss.name", "group_group", False),  # the same space and pooling
    ("loss.temperature", 0.5, False),
    ("data.classes_per_batch", 8, False),
    ("train.num_steps", 7, False),
    ("eval.every", 5, False),
    ("eval.during_training.fewshot.episodes", 10, False),
])
def test_the_key_follows_what_changes_the_numbers(fake_data, field, value,
                                                  changes):
  del fake_data
  config = tiny_config()
  base = untrained_key(config)
  assert untrained_key(config) == base
  section, _, name = field.rpartition(".")
  (config[section] if section else config)[name] = value
  assert (untrained_key(config) != base) == changes


def test_other_data_is_another_key(fake_data, monkeypatch):
  config = tiny_config()
  base = untrained_key(config)
  from grouprep.data.sources import omniglot as omniglot_source  # pylint: disable=g-import-not-at-top
  other = dict(fake_data, test=fake_split(4, drawers=7, seed=2))
  monkeypatch.setattr(omniglot_source, "load",
                      lambda data_config, split: other[split])
  assert untrained_key(config) != base


def test_a_registered_pooling_s_code_is_part_of_the_key(fake_data, tmp_path,
                                                       monkeypatch):
  """A pooling registered from outside grouprep (a project's module, or
  text run by exec) is keyed by its code: edited under the same name, the
  untrained encoder's stored evaluation is not reused."""
  del fake_data
  import importlib  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  from grouprep import pooling  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(pooling, "POOLINGS", dict(pooling.POOLINGS))
  monkeypatch.syspath_prepend(str(tmp_path))
  module = tmp_path / "my_pooling.py"

  def register(scale):
    module.write_text(
        "def helper(items):\n"
        f"  return items.mean(-2) * {scale}\n\n\n"
        "def mine(items, mask, params):\n"
        "  return helper(items)\n")
    sys.modules.pop("my_pooling", None)
    pooling.POOLINGS["mine"] = importlib.import_module("my_pooling").mine

  config = tiny_config()
  config.eval.only = ("distance",)
  config.loss.pooling = "mine"
  register(1.0)
  first = untrained_key(config)
  assert untrained_key(config) == first
  register(2.0)  # only the helper it calls changed
  assert untrained_key(config) != first
  # Defined by exec (no file): keyed by its code, not by the object, so the
  # same text run again is the same key and an edit is another.
  keys = []
  for scale in (1.0, 1.0, 2.0):
    namespace = {}
    exec("def mine(items, mask, params):\n"  # pylint: disable=exec-used
         f"  return (lambda x: x * {scale})(items.mean(-2))\n", namespace)
    pooling.POOLINGS["mine"] = namespace["mine"]
    keys.append(untrained_key(config))
  assert keys[0] == keys[1] != keys[2]


def test_a_stored_result_is_returned_only_for_its_key(tmp_path):
  calls = []
  compute = lambda: calls.append(1) or {"ratio": 1.5, "n": [1, 2]}
  key = {"seed": 0, "eval": {"size_curve": (1, 2)}}
  first = evaluate.reuse_or_evaluate(key, compute, str(tmp_path))
  again = evaluate.reuse_or_evaluate(key, compute, str(tmp_path))
  assert first == again == {"ratio": 1.5, "n": [1, 2]} and len(calls) == 1
  evaluate.reuse_or_evaluate(dict(key, seed=1), compute, str(tmp_path))
  assert len(calls) == 2 and len(os.listdir(tmp_path)) == 2
  # Without a folder nothing is kept, and the result reads as a reused one.
  assert evaluate.reuse_or_evaluate(key, compute, None) == first
  assert len(calls) == 3


@pytest.mark.slow
def test_a_reused_untrained_evaluation_equals_a_fresh_one(tmp_path, fake_data,
                                                          monkeypatch):
  del fake_data
  from grouprep import train  # pylint: disable=g-import-not-at-top
  config = tiny_config()
  config.data.cache_dir = str(tmp_path / "cache")
  kept = tmp_path / "cache" / "untrained_eval"
  wd = str(tmp_path / "wd")
  train.train(config, wd)
  first = evaluate.evaluate(config, wd)
  assert len(os.listdir(kept)) == 1

  encoders = []
  run = evaluate.evaluate_encoder
  monkeypatch.setattr(evaluate, "evaluate_encoder",
                      lambda encoder, *a, **k: encoders.append(encoder)
                      or run(encoder, *a, **k))
  reused = evaluate.evaluate(config, wd)
  assert len(encoders) == 1  # the trained encoder alone
  assert reused["untrained"] == first["untrained"]
  assert reused["eval"] == first["eval"]

  monkeypatch.setenv("GROUPREP_REUSE_UNTRAINED", "0")
  fresh = evaluate.evaluate(config, wd)
  assert len(encoders) == 3
  assert fresh["untrained"] == reused["untrained"]
  assert np.isfinite(fresh["untrained"]["unseen_alphabets"]["distance"][
      "ratio"])

  # Another seed: another untrained encoder, not the one kept.
  monkeypatch.delenv("GROUPREP_REUSE_UNTRAINED")
  config.seed = 1
  train.train(config, str(tmp_path / "wd1"))
  other = evaluate.evaluate(config, str(tmp_path / "wd1"))
  assert len(encoders) == 5 and len(os.listdir(kept)) == 2
  assert other["untrained"] != first["untrained"]


def test_a_learned_pooling_checkpoint_evaluates_under_another_pooling(
    tmp_path, fake_data):
  """loss.pooling is not an identity field: a gi_attention checkpoint
  evaluates with centroid groups (its attention head is then unused), while
  a head of the config's own pooling is still checked."""
  del fake_data
  from grouprep import encoder, train  # pylint: disable=g-import-not-at-top
  config = tiny_config("gi_attention")
  config.evals = {k: v for k, v in config.evals.items()
                  if k in ("distance", "retrieval")}
  wd = str(tmp_path / "wd")
  train.train(config, wd)
  other = config.copy_and_resolve_references()
  other.loss.pooling = "centroid"
  metrics = evaluate.evaluate(other, wd)
  assert metrics["pooling"] == "centroid"
  own = evaluate.evaluate(config, wd)  # the attention head's own groups
  assert own["pooling"] == "attention"
  ratio = lambda m: m["eval"]["unseen_alphabets"]["distance"]["ratio"]
  assert ratio(metrics) != ratio(own)  # centroid groups, not attention's
  restored = encoder.restore(wd, config)  # its own pooling: the head checked
  assert restored.step == config.train.num_steps


def test_an_exec_d_class_is_keyed_by_its_code():
  """A data source class defined by exec (as docs/extending.md's examples
  run, its module 'builtins') counts as code from outside grouprep, keyed
  by its methods' code: the same text twice is one key, an edit another;
  grouprep's own classes and object are left to code_digest."""
  from grouprep.data.sources import omniglot as omniglot_source  # pylint: disable=g-import-not-at-top

  def defined(body):
    namespace = {}
    exec("class Mine:\n  def images(self):\n    return " + body + "\n",  # pylint: disable=exec-used
         namespace)
    return namespace["Mine"]

  a, b, c = defined("[1, 2]"), defined("[1, 2]"), defined("[1, 3]")
  assert not evaluate._in_grouprep(a)
  assert evaluate._code_bytes(a) == evaluate._code_bytes(b)
  assert evaluate._code_bytes(a) != evaluate._code_bytes(c)
  assert evaluate._in_grouprep(omniglot_source.OmniglotSource)
  assert evaluate._in_grouprep(object)
