"""Adding a pooling or a dataset touches one registry: a pooling defined in
this file alone trains and is used by every evaluator; a data source defined
in this file alone trains, is evaluated by the evaluators it offers what
they need (the others skipped, with the reason) and embeds through
grouprep.embed."""
import os
import shutil

import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from conftest import SHARED, tiny_config
from grouprep import embed
from grouprep import encoder as encoder_lib
from grouprep import evaluate
from grouprep import logs
from grouprep import models
from grouprep import pooling
from grouprep import train
from grouprep.data import groups as groups_lib
from grouprep.data.sources import interface
from grouprep.data.sources import registry as sources
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
  config.evals.fewshot.episodes = 20
  # The evaluation during training too: the note's ratio is pooled by it.
  config.eval.every = 3
  config.eval.during_training.distance = {}
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
  for split in ("unseen_alphabets", "heldout_characters"):
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
    # The disjoint-character groups are pooled by it too (their own path).
    assert (m["eval"][split]["disjoint_characters"]["size_curve"] !=
            c["eval"][split]["disjoint_characters"]["size_curve"])
    assert m["eval"][split]["fewshot"] == c["eval"][split]["fewshot"]

  # One evaluator alone: only its keys, and the report copes.
  config.eval.only = ("fewshot",)
  f = evaluate.evaluate(config, str(tmp_path / "centroid"))
  assert set(f["eval"]["unseen_alphabets"]) == {
      "fewshot", "num_groups", "num_items", "num_alphabets"}
  assert f["eval"]["unseen_alphabets"]["fewshot"] == \
      c["eval"]["unseen_alphabets"]["fewshot"]


# --------------------------------------------------------------------------
# A data source defined in this file alone.
# --------------------------------------------------------------------------
class ToySource(interface.Source):
  """12 labels x 3 groups x 6 random 16 px images (label k draws its strokes
  in one band of rows); labels 7-11 held out. It offers labels and groups
  only: no alphabets, no characters, no Lake's runs."""
  splits = {"toy_heldout": interface.SplitSpec(
      "toy_heldout", "the toy's labels 7-11", "given",
      ("group_labels", "classes"))}
  eval_splits = ("toy_heldout",)
  plotted = "toy_heldout"
  names = tuple(f"toy{k:02d}" for k in range(12))

  def data(self):
    """images [216, 16, 16] uint8 (strokes bright), label, group [216]."""
    rng = np.random.default_rng(self.seed)
    label = np.repeat(np.arange(12), 18)
    group = np.repeat(np.arange(36), 6)
    images = np.zeros((len(label), 16, 16), np.uint8)
    for i, k in enumerate(label):
      band = slice(k * 13 // 11, k * 13 // 11 + 3)
      images[i, band] = (rng.random((3, 16)) < 0.5) * 255
    return images, label, group

  def train_data(self, groups_per_class=1, why=""):
    images, label, group = self.data()
    return interface.TrainData(images, groups_lib.given_groups(
        label, group, np.flatnonzero(label < 7)), "labels", self.names)

  def eval_split(self, name, max_characters=0):
    images, label, group = self.data()
    groups = groups_lib.given_groups(label, group, np.flatnonzero(label >= 7))
    return interface.SplitData(self.splits[name], images, groups, self.names,
                               np.arange(len(groups.item_image)),
                               label[groups.item_image])

  def summary(self):
    return {"source": "toy", "labels": list(self.names),
            "heldout_labels": list(self.names[7:])}


@pytest.mark.slow
def test_a_new_data_source_trains_evaluates_and_embeds(tmp_path, monkeypatch):
  monkeypatch.setattr(sources, "SOURCES", dict(sources.SOURCES))
  sources.register("toy", ToySource)
  config = tiny_config("gi_centroid")
  config.data.source = "toy"
  config.evals.fewshot.episodes = 20
  wd = str(tmp_path / "toy")
  train.train(config, wd)
  m = evaluate.evaluate(config, wd)
  # What it offers is evaluated, on its own split ...
  assert list(m["eval"]) == ["toy_heldout"]
  held = m["eval"]["toy_heldout"]
  assert {"distance", "retrieval", "item_to_group_accuracy",
          "fewshot"} <= set(held)
  assert held["num_labels"] == 5 and held["num_groups"] == 15
  assert set(held["fewshot"]) == {"5way_1shot", "5way_5shot"}
  assert "20way_1shot" in held["fewshot_skipped"]
  # ... what it lacks is skipped, with the reason.
  skipped = m["skipped_evaluators"]
  assert set(skipped) == {"theorem1", "disjoint_characters", "lake"}
  assert "training characters" in skipped["theorem1"] and \
      "'toy' does not offer" in skipped["theorem1"]
  assert "alphabet and character" in skipped["disjoint_characters"]
  assert "Lake" in skipped["lake"]
  assert "theorem1" not in held and "lake_one_shot_error" not in m["eval"]
  # report.md shows its split's numbers and the skips' reasons.
  with open(os.path.join(wd, "report.md")) as f:
    report = f.read()
  assert "On toy_heldout" in report and "does not offer" in report
  row = next(l for l in report.splitlines() if l.startswith("| gi_centroid"))
  assert f"{held['distance']['ratio']:.2f}" in row

  # The checkpoint embeds through grouprep.embed: the held-out images as a
  # folder tree (dark strokes on white, as files are) give evaluate's
  # embeddings, and the note's metric per set of labels.
  images, label, group = ToySource(config.data, config.seed).data()
  root = tmp_path / "files"
  for i in np.flatnonzero(label >= 7):
    d = root / ToySource.names[label[i]] / f"g{group[i]:02d}"
    os.makedirs(d, exist_ok=True)
    Image.fromarray(255 - images[i]).save(d / f"{i:03d}.png")
  arrays, stats = embed.run(wd, str(root), str(tmp_path / "toy.npz"),
                            metric=True, progress=False)
  split = evaluate.encoder_view(
      config, models.create_model(config.model),
      encoder_lib.restore(wd, config).variables, None,
      evaluate.Inputs.of(config)).split("toy_heldout")
  order = np.argsort(split.groups.item_image)  # the files' order
  np.testing.assert_allclose(arrays["item_embeddings"], split.items[order],
                             atol=1e-6)
  assert stats["heldout_labels"]["num_labels"] == 5
  assert set(stats) == {"heldout_labels"}
  for key in ("same_label_mean", "diff_label_mean", "ratio"):  # evaluate's
    assert stats["heldout_labels"][key] == pytest.approx(
        held["distance"][key], rel=1e-5)
