"""Test setup: two CPU host devices (set before JAX starts) and a fake Omniglot.

The suite runs on the CPU unless GROUPREP_TEST_PLATFORM names an accelerator
(`GROUPREP_TEST_PLATFORM=gpu python -m pytest tests`, or tpu): then JAX's
default backend is that accelerator (the CPU stays available beside it), GPU
memory is allocated on demand so the tests' subprocesses share one GPU,
matmuls default to float32 (`highest`), and the tests marked multi_device
are skipped where fewer than 2 accelerators are present.
"""
import os
import tempfile

PLATFORM = os.environ.get("GROUPREP_TEST_PLATFORM", "cpu").lower()
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_force_host_platform_device_count=2")
if PLATFORM == "cpu":
  os.environ.setdefault("JAX_PLATFORMS", "cpu")
else:
  os.environ["JAX_PLATFORMS"] = {"gpu": "cuda,cpu"}.get(
      PLATFORM, f"{PLATFORM},cpu")
  os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
  # The tests call the math directly and compare it with float32/64
  # references, which TF32 (a GPU's default) misses by ~1e-3: float32 in
  # this process (set below, once JAX is imported). Not in the environment,
  # so the subprocess tests (main, embed) run under the library's own
  # precision policy (config.*.matmul_precision).
  # The resume and same-config tests compare runs bit for bit; XLA's GPU
  # reductions are not deterministic without this flag.
  os.environ["XLA_FLAGS"] += " --xla_gpu_deterministic_ops=true"
# One persistent compilation cache for the suite, subprocesses included: the
# same steps and evaluators compile in many tests (measured: the four
# test_configs_train_and_evaluate runs 77 s without it, 69 s filling it,
# 32 s warm). Results are the same executables, so the same numbers.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(
    tempfile.gettempdir(), f"grouprep-tests-jax-cache-{os.getuid()}"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from grouprep.data import omniglot  # noqa: E402

SHARED = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                      "shared"))
TFDS_DIR = os.path.join(SHARED, "tensorflow_datasets")
HAVE_TFDS = os.path.isdir(os.path.join(TFDS_DIR, "omniglot", "3.0.0"))
needs_tfds = pytest.mark.skipif(
    not HAVE_TFDS, reason=f"prepared TFDS Omniglot not found at {TFDS_DIR}")


def fake_split(num_alphabets=6, chars_per_alphabet=5, drawers=4, size=16,
               seed=0) -> omniglot.OmniglotSplit:
  """A tiny Omniglot-shaped split with random images."""
  rng = np.random.default_rng(seed)
  n = num_alphabets * chars_per_alphabet * drawers
  alphabet = np.repeat(np.arange(num_alphabets), chars_per_alphabet * drawers)
  char_in_alpha = np.tile(np.repeat(np.arange(chars_per_alphabet), drawers),
                          num_alphabets)
  return omniglot.OmniglotSplit(
      images=(rng.random((n, size, size)) < 0.2).astype(np.uint8) * 255,
      alphabet=alphabet.astype(np.int32),
      character=(alphabet * chars_per_alphabet + char_in_alpha).astype(np.int32),
      alphabet_char_id=char_in_alpha.astype(np.int32),
      alphabet_names=tuple(f"alpha{i}" for i in range(num_alphabets)))


def pytest_collection_modifyitems(config, items):
  """On an accelerator: float32 matmuls in this process, and with one
  device, the multi_device tests skipped."""
  del config
  if PLATFORM == "cpu":
    return
  import jax  # pylint: disable=g-import-not-at-top
  jax.config.update("jax_default_matmul_precision", "highest")
  if jax.local_device_count() >= 2:
    return
  skip = pytest.mark.skip(
      reason=f"needs 2 {PLATFORM} devices; this machine has "
             f"{jax.local_device_count()} (GROUPREP_TEST_PLATFORM={PLATFORM})")
  for item in items:
    if "multi_device" in item.keywords:
      item.add_marker(skip)


@pytest.hookimpl(optionalhook=True)  # the suite runs without xdist too
def pytest_xdist_auto_num_workers(config):
  """`-n auto` (the README's test command): one worker per CPU this process
  may run on, at most 8 (each worker is a JAX runtime of its own). Not
  pytest-xdist's default, psutil's physical cores, which a 2-vCPU machine
  may count as 1."""
  del config
  try:
    cpus = len(os.sched_getaffinity(0))
  except AttributeError:  # not Linux
    cpus = os.cpu_count() or 1
  return max(1, min(8, cpus))


@pytest.fixture
def fake_data(monkeypatch):
  """Routes every Omniglot load to fake splits (train and test differ)."""
  from grouprep.data.sources import omniglot as omniglot_source
  # Enough characters and drawers for 20-way 5-shot episodes on both splits.
  splits = {"train": fake_split(chars_per_alphabet=20, drawers=7, seed=0),
            "test": fake_split(4, drawers=7, seed=1)}
  monkeypatch.setattr(omniglot_source, "load",
                      lambda data_config, split: splits[split])
  return splits


def tiny_config(name="gi_centroid"):
  """A few-second config on fake 16 x 16 data."""
  import importlib
  config = importlib.import_module(f"configs.{name}").get_config("smoke")
  config.data.image_size = 16
  config.data.classes_per_batch = 4
  config.data.items_per_group = min(4, config.data.items_per_group)
  config.model.width = 8
  config.train.num_steps = 6
  config.train.schedule = "constant"
  config.train.checkpoint_every = 2
  config.train.log_every = 2
  config.eval.batch_size = 64
  config.evals.fewshot.queries = 2
  config.eval.during_training.fewshot.queries = 2
  config.eval.max_characters = 0
  config.evals.theorem1.sampled_items = 256
  return config


def write_folder_dataset(root, labels=6, groups=3, images=5, size=20, seed=0,
                         mode="L"):
  """A tiny LABEL/GROUP/IMAGE.png tree of random dark strokes on white:
  label k draws its strokes in one band of rows, so labels differ."""
  from PIL import Image
  rng = np.random.default_rng(seed)
  paths = []
  for k in range(labels):
    for g in range(groups):
      d = os.path.join(str(root), f"label{k}", f"group{g}")
      os.makedirs(d, exist_ok=True)
      for i in range(images):
        img = np.full((size, size), 255, np.uint8)
        band = slice(k * size // labels, (k + 1) * size // labels + 2)
        img[band] = np.where(rng.random((size, size))[band] < 0.5, 0, 255)
        path = os.path.join(d, f"img{i}.png")
        Image.fromarray(img).convert(mode).save(path)
        paths.append(path)
  return paths


def tiny_folder_config(path, name="gi_centroid"):
  """tiny_config on a folder dataset at `path` (write_folder_dataset's),
  its decode cache beside it."""
  config = tiny_config(name)
  config.data.source = "folder"
  config.data.path = str(path)
  config.data.cache_dir = str(path) + "_cache"
  return config


@pytest.fixture(scope="session")
def folder_run(tmp_path_factory):
  """(config, workdir, data folder) of a tiny gi_centroid run trained on a
  6-label folder dataset (2 labels held out), once per session: tests that
  change them work on copies."""
  from grouprep import train
  root = tmp_path_factory.mktemp("folder_run")
  write_folder_dataset(root / "data")
  config = tiny_folder_config(root / "data")
  train.train(config, str(root / "wd"))
  return config, str(root / "wd"), str(root / "data")


def write_foreign_checkpoint(folder_wd, workdir):
  """An Orbax checkpoint in workdir with the folder run's config but a state
  that is no grouprep train state (another program's, or a garbled one)."""
  from grouprep import checkpoints
  mngr = checkpoints.read_only_manager(folder_wd)
  _, saved, _ = checkpoints.restore_saved(mngr)
  mngr.close()
  mngr = checkpoints.manager(str(workdir))
  checkpoints.save(mngr, 6, {"weights": np.zeros((3, 4), np.float32),
                             "params": {"dense": np.ones(4, np.float32)}},
                   saved)
  mngr.close()


def copy_run_with_strokes(workdir, dest, strokes):
  """A copy of a run whose saved configs say data.strokes = strokes."""
  import glob
  import json
  import shutil
  shutil.copytree(workdir, dest)
  for path in glob.glob(os.path.join(str(dest), "checkpoints", "*", "config",
                                     "metadata")):
    with open(path) as f:
      saved = json.load(f)
    saved["data"]["strokes"] = strokes
    with open(path, "w") as f:
      json.dump(saved, f)
  return dest
