"""The jitted evaluation computes what its NumPy predecessors did
(tests/reference_metrics.py): every continuous value within 1e-5 relative,
every decision (which triplet member, group or prototype is nearer) the same
but at a tie to float32 rounding, at most 1 in 10^4; metric by metric, and a
whole metrics.json of a trained checkpoint evaluated both ways (the fake
splits, and a `:smoke` checkpoint on Omniglot)."""
import json
import os

import numpy as np
import pytest

import reference_metrics as reference
from conftest import TFDS_DIR, needs_tfds, tiny_config
from grouprep import encoder as encoder_lib
from grouprep import metrics
from grouprep.evaluators import common

RTOL = 1e-5
MAX_FLIPS = 1e-4  # decisions that may differ, as a fraction


def _items(groups=13, dim=16, seed=0, scale=1.0):
  """Uneven groups (one of a single item) of unit or raw embeddings, and
  their labels (two groups a label)."""
  rng = np.random.default_rng(seed)
  sizes = rng.integers(1, 40, groups)
  sizes[3] = 1
  x = np.abs(rng.normal(size=(int(sizes.sum()), dim))).astype(np.float32)
  x = (x / np.linalg.norm(x, axis=1, keepdims=True) if scale == 1.0
       else scale * x)
  label = np.repeat(np.arange(groups) // 2, sizes)
  return x, label, np.r_[0, np.cumsum(sizes)]


def assert_ties_only(new, old, gaps, what):
  """new and old decisions [N] differ at most at MAX_FLIPS of them, each
  where the two distances compared are equal to float32 rounding."""
  flips = np.flatnonzero(np.ravel(new) != np.ravel(old))
  assert len(flips) <= MAX_FLIPS * np.size(new), (what, len(flips))
  assert np.all(np.ravel(gaps)[flips] < 1e-5), (what, np.ravel(gaps)[flips])


@pytest.mark.parametrize("scale", [1.0, 30.0])  # unit and raw spaces
def test_distance_extremes_match_the_reference(scale):
  x, label, offsets = _items(scale=scale)
  far, near = metrics.distance_extremes(x, offsets)
  ref_far, ref_near = reference.distance_extremes(x, offsets)
  assert far.shape == ref_far.shape == (len(x), len(offsets) - 1)
  # An item's distance to itself is 0, which float32 expands to a rounding
  # error either way: far is compared but to a group of the item alone, near
  # towards the groups of other labels (all the metrics read).
  sizes = np.diff(offsets)
  alone = (np.repeat(np.arange(len(sizes)), sizes)[:, None]
           == np.arange(len(sizes))[None, :]) & (sizes == 1)[None, :]
  np.testing.assert_allclose(far[~alone], ref_far[~alone], rtol=RTOL)
  other = label[:, None] != label[offsets[:-1]][None, :]
  np.testing.assert_allclose(near[other], ref_near[other], rtol=RTOL)


@pytest.mark.parametrize("margin_m", [None, 0.3])
def test_theorem1_matches_the_reference(margin_m):
  x, label, offsets = _items(groups=16, seed=1)
  group_label = label[offsets[:-1]]
  cents = encoder_lib.group_centroids(x, offsets)
  got = metrics.theorem1(cents, group_label, x, offsets, margin_m=margin_m,
                         num_triplets=20_000, seed=2)
  want = reference.theorem1(cents, group_label, x, offsets,
                            margin_m=margin_m, num_triplets=20_000, seed=2)
  assert set(got) == set(want)
  for k, v in want.items():
    if isinstance(v, float):
      assert got[k] == pytest.approx(v, rel=RTOL), k
    else:
      assert got[k] == v, k
  assert metrics.triplet_margin(x, label, offsets) == pytest.approx(
      reference.triplet_margin(x, label, offsets), rel=RTOL)


def test_ordered_triplets_differ_only_at_ties():
  x, label, _ = _items(groups=40, seed=3)
  drawing = np.arange(len(x)) % 97
  for triplets in (1, 999, 200_000):
    got = metrics.ordered_triplets(x, label, triplets, 3, drawing)
    want = reference.ordered_triplet_decisions(x, label, triplets, 3, drawing)
    a, p, n = metrics.sample_triplets(label, triplets, 3, drawing)
    x64 = x.astype(np.float64)
    d_ap = np.linalg.norm(x64[a] - x64[p], axis=1)
    d_an = np.linalg.norm(x64[a] - x64[n], axis=1)
    assert_ties_only(got, want, np.abs(d_ap - d_an) / d_an, "triplets")


def test_fewshot_decisions_differ_only_at_ties():
  rng = np.random.default_rng(4)
  classes = np.repeat(np.arange(60), 12)
  x = (rng.normal(size=(60, 8))[classes]
       + rng.normal(size=(len(classes), 8))).astype(np.float32)
  settings = [(5, 1), (5, 5), (20, 1), (20, 5)]
  got = metrics.fewshot_correct(x, classes, settings, 3, 300, seed=5)
  for (n, k), correct in zip(settings, got):
    want = reference.fewshot_decisions(x, classes, n, k, 3, 300, seed=5)
    assert correct.shape == want.shape == (300, n, 3)
    assert 0.2 < correct.mean() < 0.95
    s, q = metrics.sample_episodes(classes, n, k, 3, 300, 5)
    protos = x[s].astype(np.float64).mean(2)  # [E, N, D]
    d = np.linalg.norm(x[q][:, :, :, None].astype(np.float64)
                       - protos[:, None, None], axis=-1)  # [E, N, Q, N]
    own = np.take_along_axis(d, np.arange(n)[None, :, None, None], -1)[..., 0]
    other = np.where(np.eye(n, dtype=bool)[None, :, None], np.inf, d).min(-1)
    assert_ties_only(correct, want, np.abs(own - other) / other,
                     f"{n}-way {k}-shot")
    assert metrics.fewshot_accuracy(x, classes, n, k, 3, 300, 5)["mean"] == \
        pytest.approx(want.mean(), abs=MAX_FLIPS)


@pytest.mark.parametrize("pool", ["centroid", "medoid"])
def test_item_to_group_decisions_match_the_reference(pool):
  # Rotation-style groups: 6 labels x 3 groups, a label's groups hold copies
  # of the same drawings.
  rng = np.random.default_rng(6)
  item_group = np.repeat(np.arange(18), 7)
  group_label = np.repeat(np.arange(6), 3)
  item_image = 7 * group_label[item_group] + np.tile(np.arange(7), 18)
  raw = (rng.normal(size=(len(item_group), 5))
         + group_label[item_group][:, None] % 3).astype(np.float32)
  space = encoder_lib.Space("unit", True, pool)
  pool_in = space.pool_input(raw)
  members = [np.flatnonzero(item_group == g) for g in range(18)]
  groups = space.groups(pool_in, members)
  np.testing.assert_allclose(
      groups, reference.space_groups(space, pool_in, members), rtol=RTOL,
      atol=1e-7)
  leave_out = lambda g: space.leave_out(pool_in[members[g]])
  args = (space.items(raw), item_group, item_image, groups, group_label,
          leave_out)
  got = metrics.item_to_group_correct(*args)
  want = reference.item_to_group_decisions(*args)
  assert 0 < want.mean() < 1
  np.testing.assert_array_equal(got, want)


def test_size_curve_matches_the_reference():
  rng = np.random.default_rng(7)
  alphabet = np.repeat(np.arange(5), 6 * 5)
  character = np.repeat(np.arange(30), 5)
  raw = rng.normal(size=(150, 6)).astype(np.float32) + alphabet[:, None] % 2
  space = encoder_lib.Space("unit", True, "medoid")
  args = (alphabet, character, (1, 2, 5, 0), 4, 2, 3)
  got = metrics.group_size_curve(
      *args, lambda m: space.groups(raw, m))
  want = reference.group_size_curve(
      *args, lambda m: reference.space_groups(space, raw, m))
  for n, cell in want.items():
    for k, interval in cell.items():
      assert got[n][k]["n"] == interval["n"]
      for stat in ("mean", "ci95"):
        assert got[n][k][stat] == pytest.approx(interval[stat], rel=RTOL,
                                                abs=1e-9), (n, k, stat)


def _evaluated_both_ways(config, wd, monkeypatch):
  """metrics.json of wd evaluated by the jitted metrics and by the NumPy
  reference, the untrained encoder computed afresh by both."""
  from grouprep import evaluate  # pylint: disable=g-import-not-at-top
  monkeypatch.setenv("GROUPREP_REUSE_UNTRAINED", "0")

  def evaluated():
    evaluate.evaluate(config, wd)
    with open(os.path.join(wd, "metrics.json")) as f:
      return json.load(f)

  new = evaluated()
  with pytest.MonkeyPatch.context() as patch:
    reference.installed(patch)
    old = evaluated()
  return new, old


def assert_same_metrics(new, old, flips_allowed):
  """Continuous leaves within RTOL; the rates of decisions within
  flips_allowed, absolute."""
  a, b = reference.leaves(new), reference.leaves(old)
  assert set(a) == set(b), sorted(set(a) ^ set(b))[:10]
  for path, value in a.items():
    if any(k in path for k in reference.DECISION_KEYS):
      assert value == pytest.approx(b[path], rel=0, abs=flips_allowed,
                                    nan_ok=True), path
    else:
      assert value == pytest.approx(b[path], rel=RTOL, nan_ok=True), path


@pytest.mark.slow
def test_metrics_json_matches_the_reference_on_the_fake_splits(
    tmp_path, fake_data, monkeypatch):
  """Every evaluator on a trained tiny checkpoint (the fake splits)."""
  del fake_data
  from grouprep import train  # pylint: disable=g-import-not-at-top
  config = tiny_config("gi_medoid")
  wd = str(tmp_path / "wd")
  train.train(config, wd)
  new, old = _evaluated_both_ways(config, wd, monkeypatch)
  assert new["eval"]["unseen_alphabets"]["theorem1"]["num_items"] > 1
  # The references' few-shot means were float32.
  assert_same_metrics(new, old, flips_allowed=1e-6)


@pytest.mark.slow
@needs_tfds
def test_a_smoke_checkpoint_evaluates_as_the_reference_does(tmp_path,
                                                            monkeypatch):
  """gi_centroid:smoke trained on Omniglot, evaluated both ways: continuous
  metrics within 1e-5 relative, the rates of decisions within 1 in 10^4 of
  theirs, and, on the trained encoder's unseen alphabets, each triplet's,
  few-shot query's and item's decision the same but at ties."""
  import importlib  # pylint: disable=g-import-not-at-top
  from grouprep import evaluate, models, train  # pylint: disable=g-import-not-at-top
  config = importlib.import_module("configs.gi_centroid").get_config("smoke")
  config.data.data_dir = TFDS_DIR
  wd = str(tmp_path / "wd")
  train.train(config, wd)
  new, old = _evaluated_both_ways(config, wd, monkeypatch)
  assert_same_metrics(new, old, flips_allowed=MAX_FLIPS)

  trained = encoder_lib.restore(wd, config)
  encoder = evaluate.encoder_view(
      config, models.create_model(config.model), trained.variables,
      trained.head, evaluate.Inputs.of(config))
  split = encoder.split("unseen_alphabets")
  groups, items = split.groups, split.items
  sub, _ = common.sample_items(groups, config.evals.theorem1.sampled_items,
                               config.seed)
  label, drawing = split.labels[groups.item_group[sub]], groups.item_image[sub]
  num = config.evals.theorem1.triplets
  got = metrics.ordered_triplets(items[sub], label, num, 0, drawing)
  want = reference.ordered_triplet_decisions(items[sub], label, num, 0,
                                             drawing)
  assert np.mean(got != want) <= MAX_FLIPS
  from grouprep.evaluators import fewshot  # pylint: disable=g-import-not-at-top
  pos, classes = split.data.class_items, split.data.item_class
  for (n, k), correct in zip(fewshot.FEWSHOT, metrics.fewshot_correct(
      items[pos], classes, fewshot.FEWSHOT, 5, 1000, 0)):
    want = reference.fewshot_decisions(items[pos], classes, n, k, 5, 1000, 0)
    assert np.mean(correct != want) <= MAX_FLIPS, (n, k)
  leave_out = lambda g: split.space.leave_out(
      split.pool_input[split.members[g]])
  args = (items, groups.item_group, groups.item_image, split.group_emb,
          split.labels, leave_out)
  assert np.mean(metrics.item_to_group_correct(*args)
                 != reference.item_to_group_decisions(*args)) <= MAX_FLIPS
