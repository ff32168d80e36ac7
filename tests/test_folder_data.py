"""Your own data: a folder tree or CSV manifest, decoded once to an on-disk
cache, its held-out labels, and every bad input as one clear message."""
import csv
import glob
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import tiny_config, tiny_folder_config, write_folder_dataset
from grouprep import checkpoints
from grouprep import evaluate
from grouprep import tempfiles
from grouprep import train
from grouprep import validation
from grouprep.data import folder
from grouprep.data import groups as groups_lib
from grouprep.data import images as images_lib
from grouprep.data.sources import registry as sources
from grouprep.errors import DataError


@pytest.fixture
def dataset(tmp_path):
  write_folder_dataset(tmp_path / "data")
  return tmp_path / "data"



def load_labelled(config):
  """The folder / CSV dataset of config, as its source decodes it."""
  return sources.get(config.data, config.seed).load()


def heldout_groups(config):
  """The groups of its evaluation split, the held-out labels."""
  return sources.get(config.data, config.seed).eval_split(
      "heldout_labels").groups

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
  data = load_labelled(config)
  assert "Decoding 90 images" in capfd.readouterr().err
  assert isinstance(data.images, np.memmap)  # read from disk by random access
  assert data.images.shape == (90, 16, 16) and data.images.dtype == np.uint8
  png = np.asarray(Image.open(dataset / "label2" / "group1" / "img3.png"))
  i = list(data.paths).index("label2/group1/img3.png")
  np.testing.assert_array_equal(data.images[i],
                                images_lib.training_image(png, 16, "dark"))
  assert data.images[i].max() > 200 and data.images[i][0, 0] == 0  # bright
  # The second load reads the cache; a changed file is decoded again.
  again = load_labelled(config)
  assert capfd.readouterr().err == ""
  np.testing.assert_array_equal(again.images, data.images)
  Image.fromarray(np.full((20, 20), 255, np.uint8)).save(
      dataset / "label2" / "group1" / "img3.png")
  changed = load_labelled(config)
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
  from_csv = load_labelled(config)
  from_folder = load_labelled(tiny_folder_config(dataset))
  assert list(from_csv.paths) == [r[0] for r in rows]
  order = [list(from_csv.paths).index(f"data/{p}") for p in from_folder.paths]
  np.testing.assert_array_equal(from_csv.images[order], from_folder.images)
  assert from_csv.label_names == from_folder.label_names


def test_mixed_sizes_and_channels_are_converted_and_said_once(dataset, capfd):
  Image.open(dataset / "label0" / "group0" / "img0.png").convert("RGB").resize(
      (33, 21)).save(dataset / "label0" / "group0" / "img0.png")
  Image.open(dataset / "label1" / "group0" / "img0.png").convert("RGBA").save(
      dataset / "label1" / "group0" / "img0.png")
  data = load_labelled(tiny_folder_config(dataset))
  err = capfd.readouterr().err
  assert err.count("warning") == 1, err
  assert "2 size(s) (20x20, 21x33)" in err and "(RGB, RGBA, gray)" in err
  assert data.images.shape == (90, 16, 16)


def test_heldout_labels_are_seeded_and_never_trained_on(dataset):
  config = tiny_folder_config(dataset)
  _, _, sampler = train.training_data(config)
  label = load_labelled(config).label
  trained = np.unique(label[sampler.groups.item_image])
  held = heldout_groups(config)
  heldout = np.unique(label[held.item_image])
  assert len(heldout) == 2 and len(trained) == 4  # max(2, round(0.2 * 6))
  assert not set(trained) & set(heldout)
  # The held-out groups are the dataset's own, whole.
  assert held.num_groups == 6 and set(held.group_sizes) == {5}
  config.seed = 1
  other = heldout_groups(config)
  assert not np.array_equal(np.unique(label[other.item_image]), heldout)


@pytest.mark.parametrize("num_labels,fraction,held", [
    (10, 0.2, 2), (10, 0.01, 2),  # at least 2: the note's metric compares
    (5, 0.99, 4), (3, 0.5, 2),    # at most L - 1: training needs one
    (20, 0.25, 5),                # round(fraction x L) between
    (2, 0.5, 1),                  # 2 labels: 1 ("give it at least 3 labels")
    (1, 0.5, 0), (10, 0.0, 0),    # none: nothing to hold out
])
def test_heldout_label_mask_holds_out_2_to_all_but_one(num_labels, fraction,
                                                       held):
  labels = np.repeat(np.arange(num_labels), 3)
  mask = groups_lib.heldout_label_mask(labels, fraction, seed=0)
  assert len(np.unique(labels[mask])) == held
  # Whole labels: every image of a held-out label, none of the others.
  assert set(np.unique(labels[mask])).isdisjoint(labels[~mask])


def test_manifest_paths_are_held_once_in_one_buffer(dataset):
  m = folder.read_folder(str(dataset))
  assert isinstance(m.paths, folder.Strings)
  # UTF-8 bytes + one int64 offset each: no fixed-width unicode copies.
  assert m.paths.nbytes == sum(len(p.encode()) for p in m.paths) + 8 * (
      len(m) + 1)
  assert m.files[0] == os.path.join(str(dataset), "label0/group0/img0.png")
  assert m.files[1:3] == [os.path.join(str(dataset), p) for p in m.paths[1:3]]
  assert list(np.asarray(m.paths)) == list(m.paths)


def test_exif_orientation_is_applied(dataset, tmp_path):
  """A photo stored sideways with an EXIF orientation tag is read upright,
  as a viewer shows it."""
  pixels = np.full((10, 20), 255, np.uint8)
  pixels[2:4, :5] = 0  # a bar near the top left corner
  exif = Image.Exif()
  exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to view
  path = tmp_path / "sideways.png"
  Image.fromarray(pixels).save(path, exif=exif)
  upright = np.asarray(Image.fromarray(pixels).transpose(
      Image.Transpose.ROTATE_270))
  assert upright.shape == (20, 10)
  np.testing.assert_array_equal(images_lib.read_file(str(path)), upright)


def test_integer_arrays_are_read_on_one_scale_per_call():
  """0/1 vs 0..255 is decided once over a call's integer arrays, not per
  image: a 0/1 image next to a 0..255 one is read as 0..255 too."""
  binary = np.ones((16, 16), np.uint8)
  binary[4:12, 7:9] = 0  # a dark bar on 1 = white, as TFDS decodes
  gray = np.full((16, 16), 255, np.uint8)
  converter = images_lib.Converter(16, "dark")
  alone, mixed = converter([binary]), converter([binary, gray])
  np.testing.assert_array_equal(alone[0], images_lib.training_image(
      binary.astype(np.float64), 16, "dark"))
  np.testing.assert_array_equal(mixed[0], images_lib.training_image(
      binary / 255.0, 16, "dark"))
  assert images_lib.integer_scale([binary, "a.png", gray]) == 255
  assert images_lib.integer_scale(np.stack([binary, binary])) == 1
  assert images_lib.integer_scale([np.uint16(300) * binary]) == 65535


def test_a_stale_cache_temporary_file_is_removed(dataset, capfd):
  """A decoding killed mid-way leaves its temporary file; the next start
  removes it (a running process's is left alone)."""
  config = tiny_folder_config(dataset)
  os.makedirs(config.data.cache_dir)
  gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                        capture_output=True, text=True, check=True)
  final = os.path.join(config.data.cache_dir, "images-0123abcd-16.npy")
  stale = tempfiles.temporary_path(final, pid=int(gone.stdout))
  running = tempfiles.temporary_path(final, pid=os.getppid())
  for path in (stale, running):
    open(path, "wb").write(b"\x93NUMPY half")
  # Another host whose name starts with this one's: its PIDs mean nothing.
  other = os.path.join(config.data.cache_dir, os.path.basename(final) +
                       f".{tempfiles._host()}.cluster.{int(gone.stdout)}.tmp")  # pylint: disable=protected-access
  open(other, "wb").write(b"\x93NUMPY half")
  load_labelled(config)
  assert f"Removed {stale}" in capfd.readouterr().err
  assert not os.path.exists(stale) and os.path.exists(running)
  assert os.path.exists(other)


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


def _single_group(root):  # label1 is a training label (3, 4 are held out)
  shutil.rmtree(root / "label1" / "group1")
  shutil.rmtree(root / "label1" / "group2")


def _heldout_single_groups(root):
  for k in (3, 4):  # the held-out labels (seed 0)
    shutil.rmtree(root / f"label{k}" / "group1")
    shutil.rmtree(root / f"label{k}" / "group2")


def _too_few_labels(root):
  for k in (4, 5):
    shutil.rmtree(root / f"label{k}")


def _two_labels(root):
  for k in (2, 3, 4, 5):
    shutil.rmtree(root / f"label{k}")


@pytest.mark.parametrize("damage,match", [
    (_not_an_image, r"1 file\(s\) are not readable images: .*label0/group1/"
                    r"notes.txt: not a readable image"),
    (_truncated_png, r"label3/group2/img1.png: not a readable image"),
    (_empty_group, r"empty group\(s\): label1/group3/"),
    (_stray_file, r"not at that depth: label2/README"),
    (_single_group, r"label\(s\) 'label1' \(1 group\(s\)\) have fewer than 2 "
                    r"groups: loss.name='group_item'"),
    (_heldout_single_groups, r"every held-out label has a single group, so "
                             r"the note's metric has no same-label pair"),
    (_too_few_labels, r"4 labels; 2 are held out .* leaving 2 for training, "
                      r"fewer than config.data.classes_per_batch=4"),
    (_two_labels, r"has 2 label\(s\); evaluation holds out at least 2 .* "
                  r"give it at least 3 labels"),
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
    load_labelled(config)


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
    ({"eval.every": 5}, r"config.eval.every=5: data.source='folder' has no "
                        r"validation split \(its held-out labels are its test "
                        r"split, and nothing is selected on a test split\); "
                        r"set config.eval.every=0"),
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


def _one_group_label_config(dataset):
  """triplet (no pooling in the loss) on the folder, label1 with a single
  group: the sampler cannot draw V=2 groups of it."""
  shutil.rmtree(dataset / "label1" / "group1")
  shutil.rmtree(dataset / "label1" / "group2")
  config = tiny_folder_config(dataset, "triplet")
  config.data.classes_per_batch = 2
  return config


def test_labels_left_out_of_training_are_named(dataset):
  config = _one_group_label_config(dataset)
  _, data, sampler = train.training_data(config)
  assert sampler.dropped_classes.tolist() == [1]
  assert train.dropped_classes_note(data, sampler, config.data) == (
      "1 of the 4 training labels have fewer than data.groups_per_class=2 "
      "groups of at least data.items_per_group=4 items and are left out of "
      "training: 'label1'.")


@pytest.mark.slow  # trains
def test_training_says_once_which_labels_it_leaves_out(dataset, tmp_path,
                                                       capfd):
  config = _one_group_label_config(dataset)
  config.train.num_steps = 2
  train.train(config, str(tmp_path / "wd"))
  err = capfd.readouterr().err
  assert err.count("are left out of training: 'label1'") == 1, err


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


def test_a_folder_checkpoint_is_not_resumed_by_an_omniglot_config(
    folder_run, tmp_path, fake_data):
  _, workdir, _ = folder_run
  shutil.copytree(workdir, tmp_path / "wd")
  config = tiny_config()  # Omniglot (fake) into the folder run's workdir
  config.train.num_steps = 8
  with pytest.raises(checkpoints.CheckpointError,
                     match=r"config.data.source='folder' there, 'omniglot' "
                           r"here"):
    train.train(config, str(tmp_path / "wd"))


def _as_omniglot_checkpoint(workdir, source):
  """The saved configs of workdir's checkpoints rewritten as an Omniglot
  run's: data.source="omniglot", or (source None) no data.source at all, as
  every checkpoint written before folder datasets existed."""
  for path in glob.glob(os.path.join(workdir, "checkpoints", "*", "config",
                                     "metadata")):
    saved = json.load(open(path))
    if source is None:
      del saved["data"]["source"]
    else:
      saved["data"]["source"] = source
    json.dump(saved, open(path, "w"))


@pytest.mark.parametrize("source", ["omniglot", None])
def test_an_omniglot_checkpoint_is_not_resumed_on_a_folder(folder_run,
                                                           tmp_path, source):
  config, workdir, _ = folder_run
  wd = str(shutil.copytree(workdir, tmp_path / "wd"))
  _as_omniglot_checkpoint(wd, source)
  with pytest.raises(checkpoints.CheckpointError,
                     match=r"config.data.source='omniglot' there, 'folder' "
                           r"here"):
    train.train(config, wd)
  with pytest.raises(checkpoints.CheckpointError,
                     match=r"config.data.source='omniglot' there, 'folder' "
                           r"here"):
    evaluate.evaluate(config, wd)
  # ... while an Omniglot config still reads it (as every older one).
  mngr = checkpoints.read_only_manager(wd)
  step, _ = checkpoints.restore_latest(mngr, None, tiny_config().to_dict())
  mngr.close()
  assert step == 6
