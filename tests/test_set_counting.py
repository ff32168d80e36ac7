"""projects/set_counting: the set sampler, the four networks' invariances,
the Poisson loss, and the smoke config's exact resume (on fake drawings)."""
import json
import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from grouprep import stats
from grouprep.errors import CheckpointError
from projects.set_counting import models
from projects.set_counting import sampler
from projects.set_counting import train
from projects.set_counting.configs import base

NAMES = ("rff_pooling", "rff_pma", "sab_pooling", "sab_pma")
ARCHS = {"rff_pooling": ("rff", "mean"), "rff_pma": ("rff", "pma"),
         "sab_pooling": ("sab", "mean"), "sab_pma": ("sab", "pma")}


def fake_pool(num_chars=24, drawings=20, size=16, seed=0):
  """Random drawings whose first two pixels spell their index, so equal
  images mean the same drawing; character k owns drawings k*drawings..."""
  rng = np.random.default_rng(seed)
  n = num_chars * drawings
  images = (rng.random((n, size, size)) < 0.2).astype(np.uint8) * 255
  images[:, 0, 0], images[:, 0, 1] = np.arange(n) // 256, np.arange(n) % 256
  character = np.repeat(np.arange(num_chars), drawings) + 100
  return sampler.make_pool(images, character), character


def drawing_ids(images):
  return images[..., 0, 0].astype(int) * 256 + images[..., 0, 1]


def test_sampler_counts_distinct_characters_of_6_to_10_distinct_drawings():
  pool, character = fake_pool()
  sets = sampler.sample_sets(0, pool, 400)
  sizes = sets.mask.sum(1)
  assert sizes.min() == 6 and sizes.max() == 10
  assert set(sets.counts) == set(range(1, 11))
  for b in range(len(sets.counts)):
    n = sizes[b]
    assert sets.mask[b, :n].all() and not sets.mask[b, n:].any()
    ids = drawing_ids(sets.images[b, :n])
    assert len(set(ids)) == n  # every drawing once
    assert sets.counts[b] == len(set(character[ids]))
    # the characters reported are the drawings' own (pool indices)
    assert (character[ids] - 100 == sets.characters[b, :n]).all()
    assert (sets.characters[b, n:] == -1).all()
    assert not sets.images[b, n:].any()  # padding is blank


def test_sampler_is_a_function_of_its_seed():
  pool, _ = fake_pool()
  a, b = (sampler.sample_sets([3, 7], pool, 16) for _ in range(2))
  c = sampler.sample_sets([3, 8], pool, 16)
  for x, y in zip(a, b):
    np.testing.assert_array_equal(x, y)
  assert not np.array_equal(a.images, c.images)


def test_sampler_refuses_a_pool_too_small():
  pool, _ = fake_pool(num_chars=12, drawings=8)
  with pytest.raises(ValueError, match="cannot hold sets of up to 10"):
    sampler.sample_sets(0, pool, 4)


def test_poisson_nll_is_scipys():
  rng = np.random.default_rng(0)
  rate = rng.uniform(0.05, 12.0, 50).astype(np.float32)
  counts = rng.integers(1, 11, 50)
  got = train.poisson_nll(jnp.asarray(rate), jnp.asarray(counts))
  np.testing.assert_allclose(got, -scipy.stats.poisson.logpmf(counts, rate),
                             rtol=1e-5, atol=1e-5)


def test_accuracy_rounds_the_rate_and_wilson_is_the_textbook_interval():
  rate = jnp.array([2.49, 2.51, 0.7, 9.5, 2.5, 2.5, 6.2])
  # Halves to even: 2.5 predicts 2, not 3; 6.2 predicts 6, not 7.
  np.testing.assert_array_equal(
      train.correct(rate, jnp.array([2, 3, 1, 10, 2, 3, 7])),
      [1, 1, 1, 1, 1, 0, 0])
  np.testing.assert_allclose(stats.wilson_interval(50, 100),
                             (0.40383, 0.59617), atol=1e-5)
  np.testing.assert_allclose(stats.wilson_interval(0, 10), (0.0, 0.27753),
                             atol=1e-5)


def tiny_model(name):
  config = base.get_config(name, *ARCHS[name])
  config.model.update(dim=16, conv_width=8)
  return models.create_model(config.model)


@pytest.mark.parametrize("name", NAMES)
def test_output_ignores_order_and_padding(name):
  """Permuting a set's slots (mask along) or adding padded slots of any
  content changes neither the rate nor, in training, BatchNorm's batch
  statistics."""
  pool, _ = fake_pool()
  sets = sampler.sample_sets(1, pool, 5)
  model = tiny_model(name)
  variables = model.init(jax.random.PRNGKey(0), sets.images, sets.mask)
  rng = np.random.default_rng(2)
  perm = np.stack([rng.permutation(10) for _ in range(5)])
  permuted = (np.take_along_axis(sets.images, perm[..., None, None], 1),
              np.take_along_axis(sets.mask, perm, 1))
  noise = rng.integers(0, 256, (5, 14, 16, 16), dtype=np.uint8)
  padded_images = noise.copy()
  padded_images[:, :10] = np.where(sets.mask[..., None, None], sets.images,
                                   noise[:, :10])
  padded = (padded_images, np.pad(sets.mask, ((0, 0), (0, 4))))
  for training in (False, True):
    def run(images, mask):
      return model.apply(variables, images, mask, train=training,
                         mutable=["batch_stats"] if training else False)
    want = run(sets.images, sets.mask)
    for images, mask in (permuted, padded):
      got = run(images, mask)
      jax.tree.map(lambda a, b: np.testing.assert_allclose(
          a, b, rtol=2e-5, atol=2e-6), got, want)


def test_rff_pooling_is_deepsets_with_a_nonlinear_decoder():
  """rFF + Pooling against a NumPy composition of its parameters: per
  drawing 2 x relu(Dense), the mean of the present drawings, then
  decoder_layers x relu(Dense) (DeepSets' rho), Dense(1), softplus. PMA
  gets the same decoder: the pooling is all a row changes."""
  pool, _ = fake_pool()
  sets = sampler.sample_sets(3, pool, 4)
  model = tiny_model("rff_pooling")
  variables = model.init(jax.random.PRNGKey(0), sets.images, sets.mask)
  rate, state = model.apply(variables, sets.images, sets.mask,
                            capture_intermediates=True, mutable=[
                                "intermediates"])
  p = jax.tree.map(lambda x: np.asarray(x, np.float64), variables["params"])
  dense = lambda x, q: x @ q["kernel"] + q["bias"]
  relu = lambda x: np.maximum(x, 0)
  h = np.asarray(state["intermediates"]["conv"]["__call__"][0], np.float64)
  for i in range(2):
    h = relu(dense(h, p[f"rff_{i}"]))
  m = sets.mask[..., None]
  z = (h * m).sum(1) / m.sum(1)
  assert config_layers("rff_pooling") == 2
  for i in range(2):
    z = relu(dense(z, p[f"decoder_{i}"]))
  want = np.logaddexp(0, dense(z, p["out"])[:, 0])
  np.testing.assert_allclose(rate, want, rtol=1e-5, atol=1e-6)
  for name in ("rff_pma", "sab_pma", "sab_pooling"):
    params = tiny_model(name).init(jax.random.PRNGKey(0), sets.images,
                                   sets.mask)["params"]
    assert {k for k in params if k.startswith("decoder")} == {
        "decoder_0", "decoder_1"}, name
    assert params["decoder_1"]["kernel"].shape == (16, 16)


def test_a_checkpoint_from_before_the_decoder_is_refused(tmp_path):
  """A run saved before model.decoder_layers existed had no decoder: its
  checkpoint is refused by name, not restored into the wrong network."""
  from grouprep import checkpoints
  from projects.set_counting.configs import rff_pma
  config = rff_pma.get_config("smoke")
  config.model.update(dim=16, conv_width=8)
  model = models.create_model(config.model)
  state = jax.device_get(train.create_train_state(config, model))
  old = config.to_dict()
  del old["model"]["decoder_layers"]
  mngr = checkpoints.manager(str(tmp_path), 2)
  checkpoints.save(mngr, 10, state, old)
  checkpoints.finish(mngr)
  with pytest.raises(CheckpointError, match="decoder_layers=0 there, 2 here"):
    train.restore_or_create(config, model, mngr)
  mngr.close()


def config_layers(name):
  return base.get_config(name, *ARCHS[name]).model.decoder_layers


def test_create_model_names_the_wrong_field():
  config = base.get_config("x", "sab", "pma")
  config.model.block = "isab"
  with pytest.raises(ValueError, match="config.model.block"):
    models.create_model(config.model)
  config.model.update(block="sab", pma_heads=5)
  with pytest.raises(ValueError, match="config.model.pma_heads"):
    models.create_model(config.model)
  config.model.update(pma_heads=8, decoder_layers=-1)
  with pytest.raises(ValueError, match="config.model.decoder_layers"):
    models.create_model(config.model)


@pytest.mark.parametrize("name", NAMES)
def test_configs_load(name):
  import importlib
  module = importlib.import_module(f"projects.set_counting.configs.{name}")
  config, smoke = module.get_config(), module.get_config("smoke")
  assert (config.model.block, config.model.pool) == ARCHS[name]
  assert config.train.batch_size == 32 and config.train.learning_rate == 1e-4
  assert smoke.train.num_steps < config.train.num_steps
  with pytest.raises(ValueError, match="smoke"):
    module.get_config("smok")


def fake_pools(size):
  """Train, val and test pools of fake drawings at `size` pixels."""
  return {split: fake_pool(num_chars=c, size=size, seed=i)[0]
          for i, (split, c) in enumerate((("train", 30), ("val", 12),
                                          ("test", 16)))}


def read_rows(workdir):
  return [{k: v for k, v in r.items() if not k.endswith("_s")}
          for r in train.read_log(str(workdir))]


@pytest.mark.slow
def test_smoke_config_resumes_exactly(tmp_path, monkeypatch):
  """A run killed after its step-10 checkpoint (having logged step 15), or
  before its first checkpoint, and run again ends where an uninterrupted
  run ends: same parameters, same learning curve, same test metrics. A checkpoint of another config is
  refused."""
  from projects.set_counting.configs import sab_pma
  config = sab_pma.get_config("smoke")
  pools = fake_pools(config.data.image_size)
  whole = train.train_and_evaluate(config, str(tmp_path / "whole"), pools)

  real_step = train.train_step

  def killed_then_resumed(workdir, kill_at_call, logged_steps):
    calls = []

    def crashing_step(*args):
      calls.append(1)
      if len(calls) == kill_at_call:
        raise KeyboardInterrupt
      return real_step(*args)

    monkeypatch.setattr(train, "train_step", crashing_step)
    with pytest.raises(KeyboardInterrupt):
      train.train_and_evaluate(config, str(workdir), pools)
    assert [r["step"] for r in train.read_log(str(workdir))] == logged_steps
    monkeypatch.setattr(train, "train_step", real_step)
    return train.train_and_evaluate(config, str(workdir), pools)

  # After the step-10 checkpoint (step 15 logged), and before the first
  # checkpoint (only the untrained step-0 row logged, which is written
  # again, not twice).
  for workdir, kill_at_call, logged in (("resumed", 17, [0, 5, 10, 15]),
                                        ("early", 3, [0])):
    resumed = killed_then_resumed(tmp_path / workdir, kill_at_call, logged)
    jax.tree.map(np.testing.assert_array_equal,
                 (whole.params, whole.batch_stats, whole.opt_state),
                 (resumed.params, resumed.batch_stats, resumed.opt_state))
    assert read_rows(tmp_path / "whole") == read_rows(tmp_path / workdir)
    metrics = [json.load(open(tmp_path / d / "metrics.json"))
               for d in ("whole", workdir)]
    assert metrics[0]["test"] == metrics[1]["test"]
    assert metrics[0]["test"]["num_sets"] == config.data.num_test_sets

  other = sab_pma.get_config("smoke")
  other.train.learning_rate = 1e-3
  with pytest.raises(CheckpointError, match="train.learning_rate"):
    train.train_and_evaluate(other, str(tmp_path / "whole"), pools)
  assert os.path.exists(tmp_path / "whole" / "checkpoints" / "20")


def _finished_run(path, correct, num_sets=100, steps=40, **model):
  """A finished run of the architecture path's parent names; `model`
  overrides fields of its recorded model."""
  path.mkdir(parents=True)
  name = path.parent.name
  config = base.get_config(name, *ARCHS[name]).to_dict()
  config["model"].update(model)
  test = {"accuracy": correct / num_sets, "correct": correct,
          "num_sets": num_sets,
          "wilson95": list(stats.wilson_interval(correct, num_sets)),
          "nll": 2.0}
  floor = dict(test, count=2, accuracy=0.12, correct=12,
               wilson95=list(stats.wilson_interval(12, num_sets)))
  train.write_json(str(path / "metrics.json"), {
      "step": steps, "test": test, "train_s": 3600.0, "wall_s": 3700.0,
      "floor_constant_count": floor,
      "floor_untrained": dict(test, accuracy=0.11), "config": config})
  for row in ({"step": 0, "val_accuracy": 0.1},
              {"step": steps, "val_accuracy": 0.2}):
    train.append_log(str(path), row)


def test_table_reads_finished_runs_and_names_the_missing(tmp_path):
  from projects.set_counting import table
  _finished_run(tmp_path / "runs" / "sab_pma" / "seed0", 25)
  (tmp_path / "runs" / "rff_pma" / "seed0").mkdir(parents=True)  # unfinished
  # Another network than the config's: set aside, not counted.
  _finished_run(tmp_path / "runs" / "sab_pma" / "seed1", 90, decoder_layers=0)
  _finished_run(tmp_path / "runs" / "rff_pooling" / "seed0", 90, dim=32)
  old = tmp_path / "runs" / "rff_pooling" / "seed0" / "metrics.json"
  m = json.loads(old.read_text())
  runs = table.read_runs(str(tmp_path / "runs"))
  assert runs["sab_pma"][1][0] is None and runs["rff_pooling"][0][0] is None
  assert "decoder_layers=0 there, 2 here" in table.model_difference(
      "sab_pma", json.loads((tmp_path / "runs" / "sab_pma" / "seed1" /
                             "metrics.json").read_text()))
  # A field the run predates takes ADDED_LATER's value.
  del m["config"]["model"]["decoder_layers"]
  m["config"]["model"]["dim"] = 64
  assert table.model_difference("rff_pooling", m) == (
      "model.decoder_layers=0 there, 2 here")
  text = table.table(table.summary(runs))
  assert ("| SAB + PMA | 1 | 0.2500 ± – | seed 0: 0.2500 [0.1755, 0.3430] "
          "| 0.1100 | 0.6037 ± 0.0075 | 40 | 1.00 |") in text
  assert "| rFF + Pooling | 0 | not run |" in text
  assert "| rFF + PMA | 0 | not run |" in text and "always 2" in text
  assert "difference" not in text  # no pair has a seed in common
  table.plot_curves(runs, str(tmp_path / "curves.png"))
  assert (tmp_path / "curves.png").stat().st_size > 0


def test_table_pairs_seeds_and_controls_the_false_discovery_rate(tmp_path):
  """Differences are paired over the seeds both finished; with 3 seeds they
  are tested (t-interval, BH q over the family), with fewer untested."""
  from projects.set_counting import table
  runs_dir = tmp_path / "runs"
  for seed, (sab, rff) in enumerate([(60, 40), (62, 41), (58, 43)]):
    _finished_run(runs_dir / "sab_pma" / f"seed{seed}", sab)
    _finished_run(runs_dir / "rff_pooling" / f"seed{seed}", rff)
  _finished_run(runs_dir / "sab_pooling" / "seed0", 50)
  rows = table.summary(table.read_runs(str(runs_dir)))
  diffs = {(d["a"], d["b"]): d for d in table.differences(rows)}
  gap = diffs["sab_pma", "rff_pooling"]
  assert gap["seeds"] == [0, 1, 2]
  np.testing.assert_allclose(gap["mean"], np.mean([0.20, 0.21, 0.15]))
  assert gap["reading"] == "measured" and gap["q"] < 0.05
  assert diffs["sab_pma", "sab_pooling"]["reading"].startswith("untested")
  assert np.isnan(diffs["sab_pma", "sab_pooling"]["q"])
  text = table.table(rows)
  assert "| SAB + PMA − rFF + Pooling | 3 | +0.1867 [" in text
  # In words only once every architecture has 3 seeds.
  assert text.endswith("Read nothing yet: the fewest seeds of an "
                       "architecture is 0, and a difference is read over 3.\n")
  for seed, correct in enumerate([45, 44, 46]):
    _finished_run(runs_dir / "rff_pma" / f"seed{seed}", correct)
    if seed:
      _finished_run(runs_dir / "sab_pooling" / f"seed{seed}", 52 + seed)
  rows = table.summary(table.read_runs(str(runs_dir)))
  words = table.finding(rows, table.differences(rows))
  assert words.startswith("At 40 steps (0 % of the paper's 200000), 3 "
                          "seeds, paired by seed, 95 % t-intervals: SAB + "
                          "PMA − SAB + Pooling +0.077 [")
  assert "SAB + PMA − rFF + Pooling +0.187 [" in words
  assert "(measured)" in words and "(no measurable difference)" in words
  # The order: measured steps named as such; the rest not read from means.
  order = {(d["a"], d["b"]): d["reading"] for d in table.differences(rows)}
  for a, b in table.ORDERING[:3]:
    name = f"{table.LABELS[a]} > {table.LABELS[b]}"
    assert name in words
  unmeasured = [f"{table.LABELS[a]} > {table.LABELS[b]}"
                for a, b in table.ORDERING[:3] if order[a, b] != "measured"]
  assert unmeasured and "which at 3 seeds is not evidence" in words
  assert (table._and(unmeasured) + (" is not" if len(unmeasured) == 1
                                    else " are not")) in words
  gap = next(d for d in table.differences(rows)
             if (d["a"], d["b"]) == ("sab_pma", "rff_pooling"))
  assert gap["low"] > 0.10
  assert ("is +0.187 [+0.107, +0.267] (the paper's +0.166): above the +0.10 "
          "we read as the paper's gap at fewer steps (the whole interval "
          "is)") in words
  # An interval across GAP shows nothing either way, whatever its mean.
  wide = [dict(d, low=0.05, high=0.17, mean=0.11)
          if (d["a"], d["b"]) == ("sab_pma", "rff_pooling") else d
          for d in table.differences(rows)]
  assert ("not shown against the +0.10 we read as the paper's gap at fewer "
          "steps: the interval holds values on both sides of it"
          ) in table.finding(rows, wide)
  assert words.endswith("every architecture stays below the paper's "
                        "accuracy.")
  np.testing.assert_allclose(rows["sab_pma"]["accuracy"]["sd"],
                             np.std([0.60, 0.62, 0.58], ddof=1))


def _three_seeds_each(tmp_path, monkeypatch, correct, spread):
  """(the table module, README, RUNS, OUT): 3 finished seeds of each
  architecture (`correct` sets of 100 at seed 0, + spread(name) a seed),
  and the README's block in a copy of its own."""
  from projects.set_counting import table
  readme = tmp_path / "README.md"
  readme.write_text(f"<!-- {table.BLOCK} -->\n<!-- /{table.BLOCK} -->\n")
  monkeypatch.setattr(table, "README", str(readme))
  runs, out = tmp_path / "runs", tmp_path / "out"
  for name, c in zip(table.NAMES, correct):
    for seed in range(3):
      _finished_run(runs / name / f"seed{seed}", c + seed * spread(name))
  return table, readme, runs, out


def test_the_table_without_its_runs_is_rewritten_from_its_results(
    tmp_path, monkeypatch):
  """Where RUNS holds no finished run (a fresh clone), the table command
  rewrites the table from OUT/metrics.json, the same as from the runs,
  and keeps curves.png; it never empties a table it cannot rebuild."""
  table, readme, runs, out = _three_seeds_each(
      tmp_path, monkeypatch, (20, 25, 33, 34), lambda name: 1)
  assert table.main([f"--runs={runs}", f"--out={out}"]) == 0
  first = {f: (out / f).read_bytes() for f in ("table.md", "metrics.json",
                                               "curves.png")}
  assert b"not run" not in first["table.md"]
  assert table.main([f"--runs={tmp_path / 'gone'}", f"--out={out}"]) == 0
  assert {f: (out / f).read_bytes() for f in first} == first
  assert f"wrote this from {out / 'metrics.json'}." in readme.read_text()
  assert table.main([f"--runs={tmp_path / 'gone'}",
                     f"--out={tmp_path / 'empty'}"]) == 0  # nothing kept
  assert "not run" in (tmp_path / "empty" / "table.md").read_text()


def test_the_table_keeps_the_rows_of_architectures_whose_runs_are_gone(
    tmp_path, monkeypatch):
  """Runs of some architectures only: the others' rows come from
  OUT/metrics.json, not "not run"; a step of the paper's order measured
  the other way is said so, not read as a mean's order."""
  # rFF + PMA well above SAB + Pooling: the paper's middle step reversed.
  spread = {"rff_pooling": 1, "rff_pma": 2, "sab_pooling": 3, "sab_pma": 4}
  table, readme, runs, out = _three_seeds_each(
      tmp_path, monkeypatch, (20, 50, 30, 34), spread.get)
  assert table.main([f"--runs={runs}", f"--out={out}"]) == 0
  words = (out / "table.md").read_text()
  assert "SAB + Pooling > rFF + PMA is measured the other way" in words
  full = (out / "table.md").read_text()
  shutil.rmtree(runs / "rff_pma")
  assert table.main([f"--runs={runs}", f"--out={out}"]) == 0
  assert (out / "table.md").read_text() == full
  assert "(rFF + PMA: " in readme.read_text()
