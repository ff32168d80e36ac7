"""grouprep.load / note_metric: the embeddings evaluate measures, from a
checkpoint alone, for images as a person has them."""
import glob
import json
import os
import shutil
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import TFDS_DIR, copy_run_with_strokes, needs_tfds, \
    write_foreign_checkpoint
import grouprep
from grouprep import checkpoints
from grouprep import encoder as encoder_lib
from grouprep import evaluate
from grouprep import losses
from grouprep import models
from grouprep import pooling
from grouprep import state as state_lib
from grouprep import train
from grouprep.data import images as images_lib
from grouprep.data.sources import registry as sources
from grouprep.evaluators import common
from grouprep.evaluators import distance

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def evaluate_view(config, workdir) -> common.EncoderView:
  """The trained encoder as evaluate() builds it: its own two functions."""
  trained = encoder_lib.restore(workdir, config)
  return evaluate.encoder_view(
      config, models.create_model(config.model), trained.variables,
      trained.head, evaluate.Inputs.of(config))


@pytest.fixture(scope="module")
def heldout(folder_run):
  """(config, workdir, evaluate's SplitView of the held-out labels, their
  image files in split order)."""
  config, workdir, data_dir = folder_run
  split = evaluate_view(config, workdir).split("heldout_labels")
  paths = sources.get(config.data, config.seed).load().paths
  files = [os.path.join(data_dir, paths[i]) for i in split.groups.item_image]
  return config, workdir, split, files


# --------------------------------------------------------------------------
# The embeddings evaluate measures.
# --------------------------------------------------------------------------
def test_items_and_groups_equal_evaluates(heldout):
  config, workdir, split, files = heldout
  enc = grouprep.load(workdir)
  assert (enc.step, enc.image_size, enc.embedding_space, enc.pooling) == (
      6, 16, "unit", "centroid")
  assert enc.num_classes == 6 and enc.dataset["source"] == "folder"
  items = enc.embed_items(files)  # the PNG files, dark strokes on white
  assert items.shape == (len(files), enc.dim) and items.dtype == np.float32
  np.testing.assert_allclose(np.linalg.norm(items, axis=1), 1, atol=1e-6)
  np.testing.assert_allclose(items, split.items, atol=1e-6)
  ids = split.groups.item_group  # evaluate's groups, in their order
  np.testing.assert_allclose(enc.embed_groups(files, ids), split.group_emb,
                             atol=1e-6)


def test_group_rows_follow_the_sorted_group_ids(heldout):
  _, workdir, split, files = heldout
  enc = grouprep.load(workdir)
  names = np.array([f"g{g:02d}" for g in split.groups.item_group])
  perm = np.random.default_rng(0).permutation(len(files))
  shuffled = enc.embed_groups([files[i] for i in perm], names[perm])
  np.testing.assert_allclose(shuffled, split.group_emb, atol=1e-6)
  assert enc.distances(shuffled).shape == (6, 6)
  np.testing.assert_allclose(  # the Euclidean distance, computed here
      enc.distances(shuffled[:2], shuffled),
      np.linalg.norm(shuffled[:2, None] - shuffled[None], axis=-1),
      rtol=1e-5, atol=1e-5)


def test_note_metric_is_the_distance_evaluators(heldout):
  _, _, split, _ = heldout
  reported = distance.run_split(None, split, {})["distance"]
  assert grouprep.note_metric(split.group_emb, split.labels) == reported
  names = np.array(split.data.label_names)[split.labels]
  assert grouprep.note_metric(split.group_emb, names) == reported
  with pytest.raises(ValueError, match="0 different-label pairs"):
    grouprep.note_metric(split.group_emb, np.zeros(6))
  with pytest.raises(ValueError, match=r"one label per group"):
    grouprep.note_metric(split.group_emb, np.zeros(5))


def test_images_as_a_person_has_them_give_one_embedding(heldout):
  """One drawing as uint8, float, 0/1, bool, RGB, RGBA (transparent
  background), strokes bright, or on a non-square canvas: the same pixels
  after conversion, so the same embedding."""
  _, workdir, _, files = heldout
  enc = grouprep.load(workdir)
  gray = images_lib.read_file(files[0])  # [20, 20] uint8, dark on white
  dark = gray < 128
  rgba = np.dstack([np.stack([gray] * 3, -1), np.full_like(gray, 255)])
  rgba[~dark] = 0  # background: transparent black
  want = enc.embed_items([gray])
  for variant, strokes in [
      (gray.astype(np.float32) / 255, "dark"),
      (np.stack([gray] * 3, -1), "dark"),
      (rgba, "dark"),
      (255 - gray, "bright"),
  ]:
    np.testing.assert_array_equal(enc.embed_items([variant], strokes=strokes),
                                  want)
  binary = np.where(dark, 0, 1).astype(np.uint8)  # as TFDS gives 1-bit PNGs
  np.testing.assert_array_equal(enc.embed_items([binary]),
                                enc.embed_items([~dark]))  # bool: True white
  # Any size: a 20 x 30 canvas is padded to a square with background.
  wide = np.pad(gray, ((0, 0), (5, 5)), constant_values=255)
  np.testing.assert_array_equal(
      enc.embed_items([wide]),
      enc.embed_items([np.pad(gray, 5, constant_values=255)]))
  with pytest.warns(UserWarning, match=r"2 size\(s\) \(20x20, 20x30\)"):
    enc.embed_items([gray, wide])
  with pytest.raises(images_lib.ImageReadError, match=r"must lie in \[0, 1\]"):
    enc.embed_items([gray.astype(np.float32)])
  with pytest.raises(images_lib.ImageReadError, match="wrap one image"):
    enc.embed_items(gray)


def test_batches_of_any_size_give_the_same_embeddings(heldout):
  _, workdir, split, files = heldout
  small = grouprep.load(workdir, batch_size=8)
  assert small.batch_size == 8
  np.testing.assert_allclose(small.embed_items(files), split.items, atol=1e-6)
  assert small.embed_items([]).shape == (0, small.dim)
  with pytest.raises(ValueError, match=r"batch_size=0 must be an integer >= 1"):
    grouprep.load(workdir, batch_size=0)


def test_one_rgb_image_as_a_bare_array_is_refused(heldout):
  """[H, W, 3] is one RGB image, not H gray images W x 3: refused, where it
  used to be embedded as H images."""
  _, workdir, _, files = heldout
  enc = grouprep.load(workdir)
  rgb = np.stack([images_lib.read_file(files[0])] * 3, -1)  # [20, 20, 3]
  with pytest.raises(images_lib.ImageReadError,
                     match=r"shape \(20, 20, 3\) reads as one RGB image "
                           r"\[H, W, C\].*wrap one image in a list"):
    enc.embed_items(rgb)

  class Tensor:  # an array type that is not NumPy's (torch, tf alike)
    def __init__(self, a):
      self.a = a
    def __array__(self, dtype=None, copy=None):
      return self.a
    def __len__(self):
      return len(self.a)
    def __iter__(self):
      return iter(self.a)

  for other in (jnp.asarray(rgb), Tensor(rgb)):
    with pytest.raises(images_lib.ImageReadError, match="reads as one RGB"):
      enc.embed_items(other)
  np.testing.assert_array_equal(enc.embed_items(jnp.asarray(rgb[None])),
                                enc.embed_items(rgb[None]))
  assert enc.embed_items(rgb[None]).shape == (1, enc.dim)
  np.testing.assert_array_equal(enc.embed_items(rgb[None]),
                                enc.embed_items([rgb]))
  narrow = np.zeros((5, 20, 3), np.uint8)  # 5 gray images 20 x 3: said how
  with pytest.raises(images_lib.ImageReadError,
                     match=r"images\[\.\.\., None\]"):
    enc.embed_items(narrow)
  assert enc.embed_items(narrow[..., None]).shape == (5, enc.dim)


def test_bad_images_are_named_by_index_and_checked_first(heldout,
                                                         monkeypatch):
  _, workdir, _, files = heldout
  enc = grouprep.load(workdir, batch_size=8)
  with pytest.raises(images_lib.ImageReadError,
                     match=r"one path .*; pass a list of paths: \[path\]"):
    enc.embed_items(files[0])  # a str, not 40-odd one-character "paths"
  gray = images_lib.read_file(files[0])
  with pytest.raises(images_lib.ImageReadError,
                     match=r"^images\[9\]: float pixel values must lie in"):
    enc.embed_items([gray] * 9 + [gray.astype(np.float32)])  # 2nd batch
  with pytest.raises(images_lib.ImageReadError,
                     match=r"^images\[1\]: .*nowhere.png: no such file"):
    enc.embed_items([files[0], "nowhere.png"])
  # group_ids of the wrong length: refused before any image is embedded.
  monkeypatch.setattr(enc, "embed_pixels", lambda pixels: 1 / 0)
  with pytest.raises(ValueError, match=r"one id per image: shape \(2,\) for "
                                       r"3 images"):
    enc.embed_groups(files[:3], ["a", "b"])


def test_integer_images_of_one_call_share_one_scale(heldout):
  """0/1 or 0..255 is decided once per call, over every batch: eight 0/1
  images before a 0..255 one are read as 0..255 like it, not as 0/1."""
  _, workdir, _, files = heldout
  enc = grouprep.load(workdir, batch_size=8)
  gray = images_lib.read_file(files[0])
  binary = (gray > 127).astype(np.uint8)  # 0/1, 1 = white
  got = enc.embed_items([binary] * 8 + [gray])  # two batches
  # Equal to float32 rounding, not bit for bit: the rows are normalised in
  # one jitted call over all of a call's images, and jaxlib 0.10.1 rounds
  # that normalisation of 9 rows and of 8 (or 1) differently in the last bit.
  np.testing.assert_allclose(
      got[:8], enc.embed_items([binary.astype(np.float32) / 255] * 8),
      rtol=0, atol=1e-6)
  np.testing.assert_allclose(got[8:], enc.embed_items([gray]), rtol=0,
                             atol=1e-6)
  assert np.abs(got[0] - enc.embed_items([binary])[0]).max() > 1e-3


def test_strokes_default_to_the_checkpoints_training_data(folder_run,
                                                          tmp_path):
  """A checkpoint trained on bright strokes (data.strokes="bright") reads
  images as bright by default; one trained on dark strokes (and every
  Omniglot one) as dark."""
  _, workdir, data = folder_run
  assert grouprep.load(workdir).strokes == "dark"
  bright = copy_run_with_strokes(workdir, tmp_path / "bright", "bright")
  enc = grouprep.load(str(bright))
  assert enc.strokes == "bright"
  x = [images_lib.read_file(os.path.join(data, "label0/group0/img0.png"))]
  np.testing.assert_array_equal(enc.embed_items(x),
                                enc.embed_items(x, strokes="bright"))
  assert np.abs(enc.embed_items(x) -
                enc.embed_items(x, strokes="dark")).max() > 1e-3


# --------------------------------------------------------------------------
# Checkpoints: old, foreign, missing.
# --------------------------------------------------------------------------
# The evaluation settings as configs held them before each evaluator had
# its own (config.evals a tuple of names, the settings in config.eval).
OLD_EVAL_LAYOUT = {
    "evals": ["distance", "retrieval", "item_to_group", "theorem1",
              "disjoint_characters", "fewshot", "lake"],
    "eval": {"batch_size": 64, "matmul_precision": "highest",
             "fewshot_episodes": 1000, "fewshot_queries": 2,
             "theorem1_items": 256, "lake_runs": None, "max_characters": 0,
             "charsets_per_alphabet": 2, "size_curve": [1, 2, 5, 0],
             "size_curve_resamples": 3, "theorem1_triplets": 100000,
             "every": 0, "during_training": ["fewshot"],
             "during_training_episodes": 200}}


@pytest.mark.slow  # fast lane under 2 min
def test_a_checkpoint_of_the_old_evaluation_settings_evaluates_and_loads(
    folder_run, tmp_path, monkeypatch):
  """A checkpoint whose saved config has the old evaluation layout is
  evaluated by today's config as its own checkpoint is, and loads."""
  monkeypatch.setenv("GROUPREP_REUSE_UNTRAINED", "0")  # both computed
  config, workdir, _ = folder_run
  new = shutil.copytree(workdir, tmp_path / "new")
  old = shutil.copytree(workdir, tmp_path / "old")
  for path in glob.glob(str(old / "checkpoints" / "*" / "config" /
                            "metadata")):
    saved = json.load(open(path))
    assert isinstance(saved["evals"], dict)  # written by today's grouprep
    saved.update(OLD_EVAL_LAYOUT)
    json.dump(saved, open(path, "w"))
  config = config.copy_and_resolve_references()
  config.evals.fewshot.episodes = 20
  got = evaluate.evaluate(config, str(old))
  want = evaluate.evaluate(config, str(new))
  assert got["eval"] == want["eval"] and got["untrained"] == want["untrained"]
  enc = grouprep.load(str(old))
  assert enc.batch_size == 64 and enc.step == 6
  x = np.zeros((2, 16, 16), np.uint8)
  np.testing.assert_array_equal(enc.embed_items(x),
                                grouprep.load(workdir).embed_items(x))


@pytest.mark.slow  # fast lane under 2 min
def test_a_checkpoint_without_head_sizes_loads_with_a_note(folder_run,
                                                          tmp_path, capfd):
  _, workdir, _ = folder_run
  old = shutil.copytree(workdir, tmp_path / "old")
  for d in glob.glob(str(old / "checkpoints" / "*" / "metadata")):
    shutil.rmtree(d)  # as written before grouprep stored them
  enc = grouprep.load(str(old))
  assert "written before grouprep stored head sizes" in capfd.readouterr().err
  assert enc.num_classes is None and enc.dataset is None
  x = np.zeros((2, 16, 16), np.uint8)
  np.testing.assert_array_equal(enc.embed_items(x),
                                grouprep.load(workdir).embed_items(x))


def test_a_checkpoint_of_another_model_is_refused(folder_run, tmp_path):
  _, workdir, _ = folder_run
  other = shutil.copytree(workdir, tmp_path / "other")
  for path in glob.glob(str(other / "checkpoints" / "*" / "config" /
                            "metadata")):
    saved = json.load(open(path))
    saved["model"]["width"] = 16  # the state holds width 8
    json.dump(saved, open(path, "w"))
  with pytest.raises(checkpoints.CheckpointError,
                     match=r"holds an encoder of other shapes .* not written "
                           r"by the model its own config describes"):
    grouprep.load(str(other))


def test_a_checkpoint_that_is_no_train_state_is_refused(folder_run, tmp_path,
                                                        capfd):
  _, workdir, _ = folder_run
  write_foreign_checkpoint(workdir, tmp_path / "foreign")
  with pytest.raises(checkpoints.CheckpointError,
                     match=r"step 6 .* is not a grouprep train state: it lacks "
                           r"params/encoder, params/head, batch_stats \(its "
                           r"state holds \['params', 'weights'\]\)"):
    grouprep.load(str(tmp_path / "foreign"))
  assert "written before grouprep stored head sizes" not in \
      capfd.readouterr().err


def test_corrupt_metadata_is_an_error_and_absent_metadata_is_none(
    folder_run, tmp_path):
  _, workdir, _ = folder_run
  wd = shutil.copytree(workdir, tmp_path / "wd")
  meta = sorted(glob.glob(str(wd / "checkpoints" / "*" / "metadata")))
  for d in meta[:-1]:
    shutil.rmtree(d)  # the older checkpoints: written before metadata
  mngr = checkpoints.read_only_manager(str(wd))
  assert checkpoints.read_metadata(mngr, 2) is None
  assert checkpoints.read_metadata(mngr, 6)["num_classes"] == 6
  with open(os.path.join(meta[-1], "metadata"), "w") as f:
    f.write('{"num_classes": 6, "datas')  # cut short
  with pytest.raises(checkpoints.CheckpointError,
                     match=r"metadata of the checkpoint at step 6 .* is "
                           r"unreadable \(JSONDecodeError.*damaged"):
    checkpoints.read_metadata(mngr, 6)
  mngr.close()
  with pytest.raises(checkpoints.CheckpointError, match="is unreadable"):
    grouprep.load(str(wd))


def test_no_checkpoint_is_a_clear_error(tmp_path):
  with pytest.raises(checkpoints.CheckpointError, match="No checkpoints in"):
    grouprep.load(str(tmp_path / "nothing"))
  assert not os.path.exists(tmp_path / "nothing")  # load never writes
  os.makedirs(tmp_path / "empty" / "checkpoints")
  with pytest.raises(checkpoints.CheckpointError, match="train first"):
    grouprep.load(str(tmp_path / "empty"))


def test_import_grouprep_is_cheap():
  code = ("import sys, grouprep; assert callable(grouprep.__getattr__); "
          "print(sorted(m for m in ('jax', 'flax', 'tensorflow_datasets') "
          "if m in sys.modules))")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, cwd=ROOT, check=True).stdout
  assert out.strip() == "[]"


@pytest.mark.slow
def test_load_works_in_a_process_without_tfds(folder_run, tmp_path):
  """No TFDS data directory anywhere (no TFDS_DATA_DIR, a HOME without
  ~/tensorflow_datasets): load and embed never touch a dataset."""
  _, workdir, data_dir = folder_run
  env = {k: v for k, v in os.environ.items() if k != "TFDS_DATA_DIR"}
  env["HOME"] = str(tmp_path)
  code = f"""
import sys, numpy as np, grouprep
enc = grouprep.load({workdir!r})
g = enc.embed_groups([{os.path.join(data_dir, 'label0/group0/img0.png')!r}] * 2
                     + [np.zeros((9, 12), np.uint8)], ["a", "a", "b"])
assert g.shape == (2, enc.dim), g.shape
assert "tensorflow_datasets" not in sys.modules
print("ok", enc)
"""
  r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                     text=True, cwd=str(tmp_path), env=env, timeout=300)
  assert r.returncode == 0, r.stderr[-3000:]
  assert r.stdout.startswith("ok Encoder('gi_centroid' at step 6")


# --------------------------------------------------------------------------
# On Omniglot: TFDS images passed raw, and a learned pooling.
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def omniglot_runs(tmp_path_factory):
  """name -> (config, workdir) of a 10-step smoke run, trained on first use."""
  import importlib
  runs = {}

  def get(name):
    if name not in runs:
      config = importlib.import_module(f"configs.{name}").get_config("smoke")
      config.data.data_dir = TFDS_DIR
      config.train.num_steps = 10
      config.eval.batch_size = 512
      workdir = str(tmp_path_factory.mktemp(name))
      train.train(config, workdir)
      runs[name] = (config, workdir)
    return runs[name]

  return get


@pytest.mark.slow
@needs_tfds
def test_raw_tfds_images_embed_as_evaluate_embeds_them(omniglot_runs):
  """TFDS's own arrays (105 x 105 x 3, 0/1, 1 = white) with strokes="dark"
  give evaluate's item and group embeddings of the unseen alphabets."""
  from grouprep.data import omniglot  # pylint: disable=g-import-not-at-top
  config, workdir = omniglot_runs("gi_centroid")
  split = evaluate_view(config, workdir).split("unseen_alphabets")
  groups = split.groups
  upright = np.flatnonzero(groups.item_rotation == 0)  # rotation-0 groups
  source = omniglot.get_builder(TFDS_DIR).as_data_source("test")
  raw = np.stack([e["image"] for e in source.__getitems__(
      groups.item_image[upright].tolist())])
  # TFDS decodes the 1-bit PNGs to 0/1 here; with another image decoder
  # installed (seen on a GPU machine) to 0/255: both must embed alike.
  assert raw.shape[1:] == (105, 105, 3)
  assert set(np.unique(raw)) in ({0, 1}, {0, 255})
  ones = (raw > 0).astype(np.uint8)
  enc = grouprep.load(workdir)
  for pixels in (ones, ones * np.uint8(255)):
    np.testing.assert_allclose(enc.embed_items(pixels, strokes="dark"),
                               split.items[upright], atol=1e-6)
  rows = np.flatnonzero(groups.group_key == 0)
  got = enc.embed_groups(raw, groups.item_group[upright])
  np.testing.assert_allclose(got, split.group_emb[rows], atol=1e-6)


@pytest.mark.slow
@needs_tfds
@pytest.mark.parametrize("name", ["gi_attention", "gi_set_transformer"])
def test_learned_groups_are_the_training_steps_pooling(omniglot_runs, name):
  """A learned pooling (attention's query and key map; the Set Transformer's
  SABs and PMA): embed_groups pools exactly as the loss pools the batch's
  raw embeddings (then unit norm)."""
  config, workdir = omniglot_runs(name)
  enc = grouprep.load(workdir)
  mngr = checkpoints.read_only_manager(workdir)
  _, _, state = checkpoints.restore_saved(mngr)
  params = state["params"]["head"]["pool"]
  if name == "gi_attention":
    assert np.abs(params["key"]).max() > 0  # trained away from the centroid
  _, data, sampler = train.training_data(config)
  idx = sampler.indices(0)[:4]  # [4 classes, V, M] training items
  c, v, m = idx.shape
  pixels = (data.images[sampler.groups.item_image[idx.reshape(-1)]])
  rot = sampler.groups.item_rotation[idx.reshape(-1)]
  pixels = np.stack([np.rot90(p, k=r) for p, r in zip(pixels, rot)])
  model = models.create_model(config.model)
  z = model.apply(state_lib.encoder_variables(state),
                  images_lib.to_float(pixels)[..., None], train=False)
  pooled = pooling.get_pooling(config.loss.pooling, params)(
      z.reshape(c, v, m, -1))
  want = np.asarray(losses.l2_normalize(pooled)).reshape(c * v, -1)
  got = enc.embed_groups(pixels, np.repeat(np.arange(c * v), m),
                         strokes="bright")
  np.testing.assert_allclose(got, want, atol=1e-6)
  centroid = np.asarray(losses.l2_normalize(jax.numpy.mean(
      z.reshape(c * v, m, -1), 1)))
  assert np.abs(got - centroid).max() > 1e-4  # the comparison is not vacuous
