"""The Vinyals split: parsing, (character, rotation) classes, ProtoNet training
with the accuracy-vs-time log; the real lists where ../shared has them."""
import json
import os

import numpy as np
import pytest

from conftest import SHARED, fake_split, needs_tfds, tiny_config
from grouprep import evaluate
from grouprep import train
from grouprep import validation
from grouprep.data import lake as lake_data
from grouprep.data import omniglot
from grouprep.data import vinyals
from grouprep.data.sources import registry as sources
from grouprep.data.sources import vinyals as vinyals_source

VINYALS_DIR = os.path.join(SHARED, "omniglot", "splits", "vinyals")
needs_lists = pytest.mark.skipif(
    not os.path.isdir(VINYALS_DIR),
    reason=f"the Vinyals split lists are not at {VINYALS_DIR}")


def test_parse_lines():
  assert vinyals.parse(["Angelic/character01/rot000\n", "\n",
                        "Korean/character12/rot270"]) == [
                            ("Angelic", 0, 0), ("Korean", 11, 3)]
  with pytest.raises(omniglot.DataError, match="Cannot parse"):
    vinyals.parse(["Angelic/character01"])


def test_class_groups_hold_one_character_under_one_rotation():
  data = fake_split(num_alphabets=3, chars_per_alphabet=4, drawers=6)
  entries = [("alpha0", 0, 0), ("alpha0", 0, 1), ("alpha2", 3, 3)]
  g = vinyals.class_groups(data, entries)
  assert g.num_groups == 3 and list(g.group_sizes) == [6, 6, 6]
  for c, (name, char, rot) in enumerate(entries):
    members = g.members(c)
    img = g.item_image[members]
    assert np.all(data.alphabet[img] == data.alphabet_names.index(name))
    assert np.all(data.alphabet_char_id[img] == char)
    assert np.all(g.item_rotation[members] == rot)
  # Random halves: disjoint, seeded, within one class.
  halves = vinyals.class_groups(data, entries, group_size=3, seed=1)
  assert halves.num_groups == 6 and list(halves.group_class) == [0, 0, 1, 1, 2, 2]
  for c in range(3):
    a, b = (set(halves.item_image[halves.members(2 * c + j)]) for j in (0, 1))
    assert not a & b and a | b == set(g.item_image[g.members(c)])
  again = vinyals.class_groups(data, entries, group_size=3, seed=1)
  np.testing.assert_array_equal(halves.item_image, again.item_image)
  with pytest.raises(omniglot.DataError, match="no drawings"):
    vinyals.class_groups(data, [("alpha0", 99, 0)])


def test_missing_lists_are_a_clear_error(tmp_path):
  config = tiny_config("protonet")
  config.data.vinyals_dir = str(tmp_path)
  with pytest.raises(omniglot.DataError, match="vinyals_dir"):
    vinyals.read_split("test", config.data.vinyals_dir)
  config.data.vinyals_dir = str(tmp_path / "absent")
  with pytest.raises(validation.ConfigError, match="data.vinyals_dir"):
    vinyals.read_split("test", config.data.vinyals_dir)


def test_protonet_requires_centroid_and_squared_euclidean():
  config = tiny_config("protonet")
  config.loss.similarity = "cosine"
  with pytest.raises(validation.ConfigError, match="loss.similarity"):
    validation.validate(config)


@pytest.fixture
def fake_vinyals(tmp_path, monkeypatch, fake_data):
  """Fake data and Vinyals lists: classes of alpha0-3 trainval (alpha0-2
  train, alpha3 val), alpha4-5 test. The alphabet split of the evaluation is
  6 alphabets of which alpha4-5 (20 characters) were never trained on."""
  data = fake_split(num_alphabets=6, chars_per_alphabet=5, drawers=12)
  monkeypatch.setattr(vinyals_source, "load_all", lambda data_config: data)
  fake_data["test"] = fake_split(6, chars_per_alphabet=10, drawers=7, seed=1)
  for split, alphabets in (("trainval", range(4)), ("train", range(3)),
                           ("val", (3,)), ("test", (4, 5))):
    with open(tmp_path / f"{split}.txt", "w") as f:
      for a in alphabets:
        for c in range(5):
          for r in range(4):
            f.write(f"alpha{a}/character{c + 1:02d}/rot{90 * r:03d}\n")
  return str(tmp_path)


def _trained_protonet(workdir, vinyals_dir, train_split=None):
  """A tiny ProtoNet trained on the fake Vinyals lists with the config's
  1-shot episodes (C x 6 x 1), evaluated every 3 steps: (config, workdir,
  its eval_log rows)."""
  config = tiny_config("protonet")
  if train_split:
    config.data.train_split = train_split
  config.data.vinyals_dir = vinyals_dir
  config.data.group_size = 1
  config.data.classes_per_batch = 20
  config.data.items_per_group = 1
  config.eval.every = 3
  config.eval.during_training.fewshot.episodes = 10
  workdir = str(workdir)
  train.train(config, workdir)
  with open(os.path.join(workdir, "eval_log.jsonl")) as f:
    return config, workdir, [json.loads(l) for l in f]


@pytest.mark.slow
def test_protonet_trains_and_logs_accuracy_against_time(tmp_path, fake_vinyals):
  # The reported run (:final) trains on trainval.
  config, workdir, rows = _trained_protonet(tmp_path / "run", fake_vinyals,
                                            "vinyals_trainval")
  assert [r["step"] for r in rows] == [0, 3, 6]
  assert rows[0]["wall_s"] == 0.0 and rows[1]["wall_s"] < rows[2]["wall_s"]
  for r in rows:  # trainval holds val: the chosen recipe's curve is on test
    assert 0.0 <= r["vinyals_test/20way_1shot"] <= 1.0
    assert not any(k.startswith("vinyals_val") for k in r)
  m = evaluate.evaluate(config, workdir)
  # Nothing it trained on: no held-out characters (the Vinyals split trains
  # on every background character), only the alphabets it never saw, and
  # Lake's runs 09-20 alone.
  assert set(m["eval"]) >= {"unseen_alphabets", "vinyals_test"}
  assert "heldout_characters" not in m["eval"]
  assert "vinyals_val" not in m["eval"] and "vinyals_val" in m["trained_on"]
  assert "lake_one_shot_error" not in m["eval"]
  assert m["eval"]["unseen_alphabets"]["num_alphabets"] == 2
  assert m["trained_on"]["alphabets_left_out_of_unseen_alphabets"] == [
      "alpha0", "alpha1", "alpha2", "alpha3"]
  assert m["embedding_space"] == "raw"
  fewshot = m["eval"]["vinyals_test"]["fewshot"]
  assert set(fewshot) == {"5way_1shot", "5way_5shot", "20way_1shot",
                          "20way_5shot"}
  assert m["eval"]["vinyals_test"]["num_classes"] == 40  # 2 alphabets x 5 x 4
  assert os.path.exists(os.path.join(workdir, "accuracy_vs_time.png"))


def test_recipes_are_compared_on_val_and_val_is_never_reported_when_trained():
  """The recipe run (configs/protonet.py) reads val alone; the reported run
  (configs/protonet.py:final, a fresh seed on trainval) reads test once."""
  import importlib  # pylint: disable=g-import-not-at-top
  protonet = importlib.import_module("configs.protonet")
  recipe, final = protonet.get_config(), protonet.get_config("final")
  assert recipe.data.train_split == "vinyals_train" and recipe.eval.every
  assert final.data.train_split == "vinyals_trainval"
  assert final.eval.every == 0 and final.seed != recipe.seed
  config = tiny_config("protonet")
  config.data.train_split = "vinyals_train"
  source = lambda c: sources.get(c.data, c.seed)
  assert source(config).validation_split == "vinyals_val"
  # A recipe run reads val alone: test is read once, by the trainval run.
  assert source(config).eval_splits == ("vinyals_val",)
  assert "lake_runs" not in source(config).offers  # read with test, once
  config.data.train_split = "vinyals_trainval"
  assert source(config).validation_split == "vinyals_test"
  assert "lake_runs" in source(config).offers
  assert "vinyals_val" not in source(config).eval_splits
  assert "heldout_characters" not in source(config).eval_splits
  assert source(tiny_config()).validation_split == "heldout_characters"


@needs_lists
@needs_tfds
def test_real_vinyals_split_is_disjoint_with_twenty_drawings_per_class():
  config = tiny_config("protonet")
  config.data.data_dir = os.path.join(SHARED, "tensorflow_datasets")
  config.data.image_size = 28
  sizes = {s: len(vinyals.read_split(s)) for s in vinyals.SPLITS}
  assert sizes == {"train": 4112, "val": 688, "trainval": 4800, "test": 1692}
  chars = lambda s: {e[:2] for e in vinyals.read_split(s)}
  assert not chars("trainval") & chars("test")
  groups = sources.get(config.data, config.seed).eval_split(
      "vinyals_test").groups
  assert groups.num_groups == 1692 and np.all(groups.group_sizes == 20)


@pytest.mark.slow
@needs_lists
@needs_tfds
def test_lake_runs_left_out_are_exactly_those_vinyals_trainval_holds(tmp_path):
  # Each run's 20 training drawings matched pixel for pixel to the TFDS test
  # split at 105 px; a run is trained on if any of its characters is a
  # Vinyals trainval class (measured: 156 of runs 01-08's 160 classes).
  import hashlib
  lake = os.path.join(SHARED, "omniglot", "all_runs.zip")
  if not os.path.exists(lake):
    pytest.skip("../shared/omniglot/all_runs.zip absent")
  test = omniglot.load_split("test", image_size=105,
                             data_dir=os.path.join(SHARED,
                                                   "tensorflow_datasets"),
                             cache_dir=str(tmp_path), download=False)
  digest = lambda img: hashlib.md5(np.ascontiguousarray(img).tobytes()).digest()
  where = {digest(img): i for i, img in enumerate(test.images)}
  config = tiny_config("protonet")
  config.data.vinyals_dir = VINYALS_DIR
  trainval = {e[:2] for e in vinyals.read_split("trainval",
                                                config.data.vinyals_dir)}
  trained, classes = [], 0
  for k, (train_images, _, _) in enumerate(
      lake_data.load_runs(lake, 105)):
    rows = [where[digest(img)] for img in train_images]  # all must match
    hits = sum((test.alphabet_names[test.alphabet[i]],
                int(test.alphabet_char_id[i])) in trainval for i in rows)
    classes += hits
    if hits:
      trained.append(f"run{k + 1:02d}")
  assert tuple(trained) == lake_data.RUNS_TRAINED_BY_VINYALS
  assert classes == 156


@pytest.mark.slow
def test_a_recipe_run_reads_val_alone(tmp_path, fake_vinyals):
  """configs/protonet.py's own run (vinyals_train): val during training and
  at the end; the test classes, the unseen alphabets and Lake's runs are not
  read, and metrics.json and report.md say so."""
  assert tiny_config("protonet").data.train_split == "vinyals_train"
  config, workdir, rows = _trained_protonet(tmp_path / "recipe", fake_vinyals)
  assert [r["step"] for r in rows] == [0, 3, 6]
  for r in rows:  # val logged at every reading, and nothing else
    assert 0.0 <= r["vinyals_val/20way_1shot"] <= 1.0
    assert all(k.startswith("vinyals_val/") for k in r if "/" in k)
  m = evaluate.evaluate(config, workdir)
  assert list(m["eval"]) == ["vinyals_val"]
  assert "vinyals_test" in m["trained_on"]
  assert "lake" in m["skipped_evaluators"]
  report = open(os.path.join(workdir, "report.md")).read()
  assert "## vinyals_val" in report and "embeddings.png" not in report
  # No Omniglot table of dashes: the report points at vinyals_val instead.
  assert "| config |" not in report
  assert "Evaluated on vinyals_val alone" in report
