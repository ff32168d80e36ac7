"""Adding a pooling touches one registry: a pooling defined in this file alone
trains and is used by every evaluator."""
import os
import shutil

import jax.numpy as jnp
import pytest

from conftest import SHARED, tiny_config
from grouprep import evaluate
from grouprep import logs
from grouprep import pooling
from grouprep import train
from grouprep.data import splits
from grouprep.evaluators.registry import EVALUATORS


def norm_weighted(items, mask, params):
  """Members weighted by their norm. [..., M, D], mask [..., M] -> [..., D]."""
  del params
  w = jnp.linalg.norm(items, axis=-1)
  if mask is not None:
    w = jnp.where(mask, w, 0.0)
  return jnp.einsum("...m,...md->...d", w, items) / jnp.sum(w, -1)[..., None]


@pytest.mark.slow
def test_a_new_pooling_trains_and_every_evaluator_uses_it(
    tmp_path, fake_data, monkeypatch):
  traced = []  # (rank of items, masked?) each time the pooling is traced

  def toy(items, mask, params):
    traced.append((items.ndim, mask is not None))
    return norm_weighted(items, mask, params)

  monkeypatch.setitem(pooling.POOLINGS, "norm_weighted", toy)
  config = tiny_config("gi_centroid")
  config.loss.pooling = "norm_weighted"
  config.eval.fewshot_episodes = 20
  # The evaluation during training too: the note's ratio is pooled by it.
  config.eval.every = 3
  config.eval.during_training = ("distance", "fewshot")
  train.train(config, str(tmp_path / "toy"))
  assert (4, False) in traced  # the training step pooled [C, V, M, D]
  log = logs.read(str(tmp_path / "toy"), "eval")
  assert sorted(log) == [0, 3, 6] and "heldout_characters/ratio" in log[6]
  m = evaluate.evaluate(config, str(tmp_path / "toy"))
  # Evaluation's groups, [G, M, D] (padded and masked; compiled once, by
  # the evaluation during training or by this one, so not cleared above).
  assert any(rank == 3 for rank, _ in traced), traced
  assert (2, True) in traced  # item -> group's leave-one-out, masked
  assert set(config.evals) == set(EVALUATORS)  # the config asks for all ...
  for split in splits.TRAIN_SPLITS["background"].eval_splits:
    # ... and every per-split one wrote its keys.
    assert {"distance", "retrieval", "item_to_group_accuracy", "theorem1",
            "disjoint_characters", "fewshot"} <= set(m["eval"][split])
  assert "theorem1_train_groups" in m["eval"]
  if os.path.exists(os.path.join(SHARED, "omniglot", "all_runs.zip")):
    assert 0 <= m["eval"]["lake_one_shot_error"] <= 1

  # The same checkpoint pooled by the centroid instead: the group-level
  # numbers change, the item-level ones (few-shot) do not.
  shutil.copytree(tmp_path / "toy", tmp_path / "centroid")
  config.loss.pooling = "centroid"
  c = evaluate.evaluate(config, str(tmp_path / "centroid"))
  for split in ("unseen_alphabets", "heldout_characters"):
    assert m["eval"][split]["distance"] != c["eval"][split]["distance"]
    assert m["eval"][split]["fewshot"] == c["eval"][split]["fewshot"]

  # One evaluator alone: only its keys, and the report copes.
  config.evals = ("fewshot",)
  f = evaluate.evaluate(config, str(tmp_path / "centroid"))
  assert set(f["eval"]["unseen_alphabets"]) == {
      "fewshot", "num_groups", "num_items", "num_alphabets"}
  assert f["eval"]["unseen_alphabets"]["fewshot"] == \
      c["eval"]["unseen_alphabets"]["fewshot"]
