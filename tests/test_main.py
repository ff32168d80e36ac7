"""The command line end to end: a smoke run on the real data, and bad input."""
import json
import os
import subprocess
import sys

import jax
import pytest

from conftest import TFDS_DIR, needs_tfds

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPLIT_KEYS = {"distance", "theorem1", "retrieval", "item_to_group_accuracy",
              "fewshot", "disjoint_characters"}
SIZE_CURVE_KEYS = {"1", "2", "5", "10", "20", "50", "all"}


def run_main(*args, env=None):
  env = {**os.environ, "TFDS_DATA_DIR": TFDS_DIR, **(env or {})}
  return subprocess.run([sys.executable, "-m", "grouprep.main", *args],
                        cwd=ROOT, env=env, capture_output=True, text=True,
                        timeout=600)


def check_in_unit_interval(d):
  for k, v in d.items():
    if isinstance(v, dict):
      if k != "ratio":
        check_in_unit_interval(v)
    elif k in ("mean", "recall_at_1", "map", "bound_holds_fraction",
               "item_to_group_accuracy"):
      assert 0.0 <= v <= 1.0, (k, v)


@pytest.mark.slow
@needs_tfds
def test_smoke_run_trains_and_writes_every_metric(tmp_path):
  wd = tmp_path / "wd"
  r = run_main("--config=configs/gi_centroid.py:smoke", f"--workdir={wd}",
               env={"GROUPREP_CACHE": os.environ.get(
                   "GROUPREP_CACHE", str(tmp_path / "cache"))})
  assert r.returncode == 0, r.stderr[-3000:]
  m = json.load(open(wd / "metrics.json"))
  assert m["config"] == "gi_centroid" and m["step"] == 30
  assert m["embedding_space"] == "unit"
  assert m["num_devices"] == (2 if jax.default_backend() == "cpu" else
                              jax.local_device_count())
  assert m["matmul_precision"] == {"train": "highest", "eval": "highest"}
  assert m["stack"]["platform"] == jax.default_backend()
  assert m["stack"]["jax"] == m["trained_stack"]["jax"] == jax.__version__
  for split in ("unseen_alphabets", "heldout_characters"):
    ev = m["eval"][split]
    assert SPLIT_KEYS <= set(ev)
    d = ev["distance"]
    assert d["same_label_mean"] > 0 and d["diff_label_mean"] > 0
    assert d["ratio"] == pytest.approx(d["diff_label_mean"] / d["same_label_mean"])
    assert {"margin_m", "bound_holds_fraction", "mean_distance_over_bound",
            "ordered_triplet_fraction",
            "margin_m_eval_groups"} <= set(ev["theorem1"])
    assert ev["theorem1"]["margin_source"] == "train_groups"
    dc = ev["disjoint_characters"]
    assert set(dc["size_curve"]) == SIZE_CURVE_KEYS
    assert {"recall_at_1", "map"} == set(dc["retrieval"])
    for cell in dc["size_curve"].values():
      assert cell["recall_at_1"]["n"] == 3 and cell["ratio"]["ci95"] >= 0
    assert set(ev["fewshot"]) == {"5way_1shot", "5way_5shot", "20way_1shot",
                                  "20way_5shot"}
    assert all(v["episodes"] >= 1000 for v in ev["fewshot"].values())
    check_in_unit_interval(ev)
  assert 0.0 <= m["eval"]["lake_one_shot_error"] <= 1.0
  assert 0.0 <= m["lake_one_shot_error_raw_pixels"] <= 1.0
  for f in ("report.md", "embeddings.png", "distances.png", "size_curve.png",
            "training_curves.png", "train_log.jsonl"):
    assert (wd / f).exists(), f
  # Evaluation alone restores the checkpoint and gives the same numbers
  # (written afresh: the first run's file is gone).
  os.remove(wd / "metrics.json")
  r = run_main("--config=configs/gi_centroid.py:smoke", f"--workdir={wd}",
               "--mode=eval")
  assert r.returncode == 0, r.stderr[-3000:]
  again = json.load(open(wd / "metrics.json"))
  assert again["eval"] == m["eval"]
  # Another seed or held-out fraction would redefine the held-out
  # characters: evaluation refuses it, naming the field.
  for override, field in (("--config.seed=1", "seed"),
                          ("--config.data.heldout_fraction=0.3",
                           "data.heldout_fraction")):
    r = run_main("--config=configs/gi_centroid.py:smoke", f"--workdir={wd}",
                 "--mode=eval", override)
    assert r.returncode == 2 and field in r.stderr, r.stderr[-2000:]


@pytest.mark.parametrize("override,field", [
    ("--config.loss.name=nope", "loss.name"),
    ("--config.loss.pooling=nope", "loss.pooling"),
    ("--config.eval.matmul_precision=bfloat16", "eval.matmul_precision"),
])
def test_bad_config_is_one_clear_message(tmp_path, override, field):
  r = run_main("--config=configs/gi_centroid.py:smoke",
               f"--workdir={tmp_path}", override)
  assert r.returncode == 2
  assert f"grouprep: error: config.{field}" in r.stderr
  assert "Traceback" not in r.stderr


def test_eval_without_checkpoint_says_train_first(tmp_path):
  r = run_main("--config=configs/gi_centroid.py:smoke",
               f"--workdir={tmp_path}", "--mode=eval")
  assert r.returncode == 2
  assert "No checkpoint" in r.stderr


@pytest.mark.slow
def test_path_fields_are_set_from_the_command_line(tmp_path):
  # Each documented path override reaches the code that reads it: a path
  # that does not exist is named in the one-line error (data_dir, vinyals_dir,
  # lake_runs), and the cache is written where cache_dir says. (An empty
  # cache: a decoded copy in the cache is read without the data dir.)
  missing = str(tmp_path / "nowhere")
  r = run_main("--config=configs/gi_centroid.py:smoke",
               f"--workdir={tmp_path / 'a'}", f"--config.data.data_dir={missing}",
               "--config.data.download=false",
               env={"TFDS_DATA_DIR": missing + "_env",
                    "GROUPREP_CACHE": str(tmp_path / "empty_cache")})
  assert r.returncode == 2 and missing in r.stderr and "_env" not in r.stderr, \
      r.stderr[-2000:]
  r = run_main("--config=configs/protonet.py:smoke",
               f"--workdir={tmp_path / 'b'}",
               f"--config.data.vinyals_dir={missing}")
  assert r.returncode == 2 and "config.data.vinyals_dir" in r.stderr, \
      r.stderr[-2000:]
  r = run_main("--config=configs/gi_centroid.py:smoke",
               f"--workdir={tmp_path / 'c'}", "--mode=eval",
               f"--config.evals.lake.runs={missing}.zip")
  assert r.returncode == 2 and "config.evals.lake.runs" in r.stderr and \
      missing in r.stderr, r.stderr[-2000:]
  cache = tmp_path / "cache"
  r = run_main("--config=configs/gi_centroid.py:smoke",
               f"--workdir={tmp_path / 'd'}", "--mode=train",
               "--config.train.num_steps=1", f"--config.data.cache_dir={cache}")
  assert r.returncode == 0, r.stderr[-2000:]
  assert any(cache.glob("omniglot-*-train-28.npz"))


def test_main_keeps_compilations_in_the_grouprep_cache(tmp_path):
  """main's compilation cache: jax/TAG in the grouprep cache (cache_dir,
  else $GROUPREP_CACHE; TAG this host's CPU), every compilation kept; a cache
  JAX already has ($JAX_COMPILATION_CACHE_DIR, as the tests set) is left as
  it is."""
  from grouprep import platform  # pylint: disable=g-import-not-at-top
  tag = platform.host_cpu_tag()
  code = ("import sys, jax, jax.numpy as jnp; from grouprep import main; "
          "print(main.configure_compilation_cache(sys.argv[1] or None)); "
          "jax.jit(lambda x: x * 3 + 1)(jnp.ones(5)).block_until_ready()")
  env = {k: v for k, v in os.environ.items()
         if not k.startswith("JAX_PERSISTENT_CACHE")
         and k != "JAX_COMPILATION_CACHE_DIR"}

  def cache_of(cache_dir, **extra):
    r = subprocess.run([sys.executable, "-c", code, cache_dir], cwd=ROOT,
                       env={**env, **extra}, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.split()[-1]

  assert cache_of(str(tmp_path / "a")) == str(tmp_path / "a" / "jax" / tag)
  assert os.listdir(tmp_path / "a" / "jax" / tag)  # even a quick compilation
  assert cache_of("", GROUPREP_CACHE=str(tmp_path / "b")) == \
      str(tmp_path / "b" / "jax" / tag)
  assert cache_of(str(tmp_path / "a"),
                  JAX_COMPILATION_CACHE_DIR=str(tmp_path / "c")) == \
      str(tmp_path / "c")


CONFIGS = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "configs"))
                 if f.endswith(".py") and f not in ("__init__.py", "base.py"))


def test_every_method_has_a_config():
  from grouprep.methods.registry import METHODS  # pylint: disable=g-import-not-at-top
  import importlib  # pylint: disable=g-import-not-at-top
  names = {importlib.import_module(f"configs.{c}").get_config().loss.name
           for c in CONFIGS}
  assert names == set(METHODS)


# The configs whose evaluation differs: a learned pooling's parameters, the
# soft medoid's leave-one-out, a model with a GroupFace head, a projection head
# and extra state. (Every method's training step: tests/test_train.py.)
@pytest.mark.slow
@pytest.mark.parametrize("name", ["gi_attention", "gi_soft_medoid",
                                  "groupface", "smog", "gi_set_transformer"])
def test_configs_train_and_evaluate(name, tmp_path, fake_data):
  """A config (shrunk, on fake data): train, then the full evaluation."""
  from conftest import tiny_config  # pylint: disable=g-import-not-at-top
  from grouprep import evaluate, train  # pylint: disable=g-import-not-at-top
  config = tiny_config(name)
  config.evals.fewshot.episodes = 20
  if config.data.label_key == "image":  # one image per class: C x 1 x 1
    config.data.items_per_group = 1
    config.data.classes_per_batch = 16
  train.train(config, str(tmp_path))
  m = evaluate.evaluate(config, str(tmp_path))
  assert m["config"] == name and m["step"] == config.train.num_steps
  for split in ("unseen_alphabets", "heldout_characters"):
    assert SPLIT_KEYS <= set(m["eval"][split])
    check_in_unit_interval(m["eval"][split])


def test_an_override_of_a_renamed_field_names_the_new_one():
  from grouprep import main  # pylint: disable=g-import-not-at-top
  msg = main.renamed_override(
      ["main.py", "--config=configs/gi_centroid.py",
       "--config.eval.fewshot_episodes=20"])
  assert "--config.evals.fewshot.episodes" in msg
  msg = main.renamed_override(["main.py", "--config.evals=('distance',)"])
  assert "use --config.eval.only" in msg and "no longer a field" not in msg
  assert main.renamed_override(
      ["main.py", "--config.evals.fewshot.episodes=20",
       "--config.eval.only=('distance',)"]) is None
  r = run_main("--config=configs/gi_centroid.py:smoke",
               "--workdir=/nonexistent", "--config.eval.lake_runs=x")
  assert r.returncode == 2 and "--config.evals.lake.runs" in r.stderr
