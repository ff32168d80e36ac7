"""Your own data: a folder tree or CSV manifest, decoded once to an on-disk
cache, its held-out labels, and every bad input as one clear message."""
import csv
import glob
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from conftest import tiny_config, tiny_folder_config, write_folder_dataset
from grouprep import checkpoints
from grouprep import evaluate
from grouprep import train
from grouprep import validation
from grouprep.data import folder
from grouprep.data import images as images_lib
from grouprep.data import pipeline
from grouprep.errors import DataError


@pytest.fixture
def dataset(tmp_path):
  write_folder_dataset(tmp_path / "data")
  return tmp_path / "data"


def cache_files(config):
  return sorted(glob.glob(os.path.join(config.data.cache_dir, "*")))


def write_csv(path, rows, header=True):
  with open(path, "w", newline="") as f:
    csv.writer(f).writerows(([("path", "label", "group")] if header else [])
                            + rows)
  return str(path)


# --------------------------------------------------------------------------
# Reading and decoding.
# --------------------------------------------------------------------------
def test_folder_tree_gives_labels_groups_and_paths(dataset):
  m = folder.read_folder(str(dataset))
  assert len(m) == 6 * 3 * 5
  assert m.label_names == tuple(f"label{k}" for k in range(6))
  assert m.group_names[:3] == ("label0/group0", "label0/group1",
                               "label0/group2")
  assert m.paths[0] == "label0/group0/img0.png"
  for i in range(len(m)):
    label, group, _ = m.paths[i].split("/")
    assert m.label_names[m.label[i]] == label
    assert m.group_names[m.group[i]] == f"{label}/{group}"
    assert m.group_label[m.group[i]] == m.label[i]


def test_decoded_once_to_a_memory_mapped_cache_by_the_training_rule(
    dataset, capfd):
  config = tiny_folder_config(dataset)
  data = pipeline.load_labelled(config)
  assert "Decoding 90 images" in capfd.readouterr().err
  assert isinstance(data.images, np.memmap)  # read from disk by random access
  assert data.images.shape == (90, 16, 16) and data.images.dtype == np.uint8
  png = np.asarray(Image.open(dataset / "label2" / "group1" / "img3.png"))
  i = list(data.paths).index("label2/group1/img3.png")
  np.testing.assert_array_equal(data.images[i],
                                images_lib.training_image(png, 16, "dark"))
  assert data.images[i].max() > 200 and data.images[i][0, 0] == 0  # bright
  # The second load reads the cache; a changed file is decoded again.
  again = pipeline.load_labelled(config)
  assert capfd.readouterr().err == ""
  np.testing.assert_array_equal(again.images, data.images)
  Image.fromarray(np.full((20, 20), 255, np.uint8)).save(
      dataset / "label2" / "group1" / "img3.png")
  changed = pipeline.load_labelled(config)
  assert "Decoding 90 images" in capfd.readouterr().err
  assert changed.images[i].max() == 0
  assert [f for f in cache_files(config) if f.endswith(".tmp")] == []


def test_a_csv_manifest_gives_the_folders_images(dataset, tmp_path):
  m = folder.read_folder(str(dataset))
  rows = [(f"data/{p}", m.label_names[l], m.group_names[g])
          for p, l, g in zip(m.paths, m.label, m.group)][::-1]
  config = tiny_folder_config(dataset)
  config.data.source, config.data.path = "csv", write_csv(
      tmp_path / "data.csv", rows)
  from_csv = pipeline.load_labelled(config)
  from_folder = pipeline.load_labelled(tiny_folder_config(dataset))
  assert list(from_csv.paths) == [r[0] for r in rows]
  order = [list(from_csv.paths).index(f"data/{p}") for p in from_folder.paths]
  np.testing.assert_array_equal(from_csv.images[order], from_folder.images)
  assert from_csv.label_names == from_folder.label_names


def test_mixed_sizes_and_channels_are_converted_and_said_once(dataset, capfd):
  Image.open(dataset / "label0" / "group0" / "img0.png").convert("RGB").resize(
      (33, 21)).save(dataset / "label0" / "group0" / "img0.png")
  Image.open(dataset / "label1" / "group0" / "img0.png").convert("RGBA").save(
      dataset / "label1" / "group0" / "img0.png")
  data = pipeline.load_labelled(tiny_folder_config(dataset))
  err = capfd.readouterr().err
  assert err.count("warning") == 1, err
  assert "2 size(s) (20x20, 21x33)" in err and "(RGB, RGBA, gray)" in err
  assert data.images.shape == (90, 16, 16)


def test_heldout_labels_are_seeded_and_never_trained_on(dataset):
  config = tiny_folder_config(dataset)
  data, sampler = pipeline.train_data(config)
  trained = np.unique(data.label[sampler.groups.item_image])
  _, held = pipeline.eval_groups(config, "heldout_labels")
  heldout = np.unique(data.label[held.item_image])
  assert len(heldout) == 2 and len(trained) == 4  # max(2, round(0.2 * 6))
  assert not set(trained) & set(heldout)
  # The held-out groups are the dataset's own, whole.
  assert held.num_groups == 6 and set(held.group_sizes) == {5}
  for step in range(5):
    batch = data.label[sampler.groups.item_image[sampler.indices(step)]]
    assert not np.isin(batch, heldout).any()
  config.seed = 1
  _, other = pipeline.eval_groups(config, "heldout_labels")
  assert not np.array_equal(np.unique(data.label[other.item_image]), heldout)


# --------------------------------------------------------------------------
# Bad input: one message naming the file or field, nothing half-written.
# --------------------------------------------------------------------------
def _not_an_image(root):
  (root / "label0" / "group1" / "notes.txt").write_text("not an image")


def _truncated_png(root):
  path = root / "label3" / "group2" / "img1.png"
  path.write_bytes(path.read_bytes()[:40])


def _empty_group(root):
  os.makedirs(root / "label1" / "group3")


def _stray_file(root):
  (root / "label2" / "README").write_text("stray")


def _single_group(root):
  shutil.rmtree(root / "label4" / "group1")
  shutil.rmtree(root / "label4" / "group2")


def _too_few_labels(root):
  for k in (4, 5):
    shutil.rmtree(root / f"label{k}")


@pytest.mark.parametrize("damage,match", [
    (_not_an_image, r"1 file\(s\) are not readable images: .*label0/group1/"
                    r"notes.txt: not a readable image"),
    (_truncated_png, r"label3/group2/img1.png: not a readable image"),
    (_empty_group, r"empty group\(s\): label1/group3/"),
    (_stray_file, r"not at that depth: label2/README"),
    (_single_group, r"label\(s\) 'label4' \(1 group\(s\)\) have fewer than 2 "
                    r"groups: loss.name='group_item'"),
    (_too_few_labels, r"4 labels; 2 are held out .* leaving 2 for training, "
                      r"fewer than config.data.classes_per_batch=4"),
])
def test_bad_folders_are_named_and_leave_no_cache(dataset, damage, match,
                                                  tmp_path):
  damage(dataset)
  config = tiny_folder_config(dataset)
  with pytest.raises(DataError, match=match):
    train.train(config, str(tmp_path / "wd"))
  assert not glob.glob(os.path.join(config.data.cache_dir, "*.tmp"))
  assert not os.path.exists(tmp_path / "wd" / "checkpoints")


@pytest.mark.parametrize("rows,match", [
    ([("a.png", "x")], r"line 2: expected path,label,group"),
    ([("data/label0/group0/img0.png", "x", "g"),
      ("data/label0/group0/img0.png", "x", "h")], r"line 3: .* listed twice"),
    ([("data/label0/group0/img0.png", "x", "g"),
      ("data/label0/group0/img1.png", "y", "g")],
     r"group\(s\) 'g' list items of several labels"),
])
def test_bad_csv_rows_are_named(dataset, tmp_path, rows, match):
  with pytest.raises(DataError, match=match):
    folder.read_csv(write_csv(tmp_path / "bad.csv", rows))


def test_a_missing_file_in_a_csv_is_named(dataset, tmp_path):
  rows = [(f"data/label{k}/group{g}/img0.png", f"label{k}", f"{k}-{g}")
          for k in range(6) for g in range(3)] + [
              ("data/label0/group0/gone.png", "label0", "0-0")]
  config = tiny_folder_config(dataset)
  config.data.source, config.data.path = "csv", write_csv(
      tmp_path / "data.csv", rows)
  with pytest.raises(DataError, match=r"data/label0/group0/gone.png: no such "
                                      r"file"):
    pipeline.load_labelled(config)


@pytest.mark.parametrize("changes,match", [
    ({"data.source": "s3"}, r"config.data.source='s3' is not one of"),
    ({"data.path": None}, r"reads config.data.path .* set it"),
    ({"data.path": "/nonexistent/folder"}, r"config.data.path=.* is not a "
                                           r"folder"),
    ({"data.label_key": "character"}, r"config.data.label_key='character' "
                                      r"does not apply"),
    ({"data.group_key": "charset"}, r"config.data.group_key='charset' does "
                                    r"not apply"),
    ({"data.train_split": "vinyals_train"}, r"data.train_split='vinyals_train'"
                                            r" does not apply"),
    ({"data.heldout_label_fraction": 0.0}, r"heldout_label_fraction=0.0 must "
                                           r"be in \(0, 1\)"),
    ({"data.strokes": "grey"}, r"config.data.strokes='grey' is not one of"),
])
def test_folder_config_errors_are_named_before_any_data(dataset, changes,
                                                        match, monkeypatch):
  monkeypatch.setattr(folder, "load", lambda *a, **k: 1 / 0)
  config = tiny_folder_config(dataset)
  for field, value in changes.items():
    section, key = field.split(".")
    config[section][key] = value
  with pytest.raises(validation.ConfigError, match=match):
    validation.validate(config)


# --------------------------------------------------------------------------
# Training and evaluation on it.
# --------------------------------------------------------------------------
@pytest.mark.slow  # fast lane under 2 min
def test_training_and_evaluation_on_a_folder(folder_run):
  config, workdir, _ = folder_run
  m = evaluate.evaluate(config, workdir)
  assert list(m["eval"]) == ["heldout_labels"]
  ev = m["eval"]["heldout_labels"]
  assert {"distance", "retrieval", "item_to_group_accuracy",
          "fewshot"} <= set(ev)
  assert ev["num_labels"] == 2 and ev["num_groups"] == 6
  # Few-shot over 2 labels: every N-way needs more, each said why.
  assert ev["fewshot"] == {} and set(ev["fewshot_skipped"]) == {
      "5way_1shot", "5way_5shot", "20way_1shot", "20way_5shot"}
  assert set(m["skipped_evaluators"]) == {"theorem1", "disjoint_characters",
                                          "lake"}
  assert "theorem1_train_groups" not in m["eval"]
  report = open(os.path.join(workdir, "report.md")).read()
  assert "held-out labels" in report and "group R@1" in report
  meta = checkpoints.read_metadata(checkpoints.read_only_manager(workdir),
                                   m["step"])
  # Class ids are label ids (they index a classifier's rows): 1 + the
  # largest training label's.
  assert meta["num_classes"] == 6 and meta["num_training_groups"] == 12
  assert meta["dataset"]["heldout_labels"] == ["label3", "label4"]


@pytest.mark.slow  # fast lane under 2 min
def test_evaluation_refuses_a_dataset_whose_labels_changed(folder_run,
                                                          tmp_path):
  config, workdir, data = folder_run
  shutil.copytree(data, tmp_path / "data")
  shutil.copytree(workdir, tmp_path / "wd")
  write_folder_dataset(tmp_path / "data", labels=7, seed=3)  # adds label6
  config = tiny_folder_config(tmp_path / "data")
  with pytest.raises(checkpoints.CheckpointError,
                     match=r"trained on other data: its dataset's labels"):
    evaluate.evaluate(config, str(tmp_path / "wd"))


def test_a_checkpoint_of_omniglot_is_not_resumed_on_a_folder(folder_run,
                                                            tmp_path,
                                                            fake_data):
  _, workdir, _ = folder_run
  shutil.copytree(workdir, tmp_path / "wd")
  config = tiny_config()  # Omniglot (fake) into the folder run's workdir
  config.train.num_steps = 8
  with pytest.raises(checkpoints.CheckpointError,
                     match=r"config.data.source='folder' there, 'omniglot' "
                           r"here"):
    train.train(config, str(tmp_path / "wd"))
