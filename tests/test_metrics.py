"""Every evaluation metric against an independent computation or a known answer."""
import io
import itertools
import zipfile

import numpy as np
import pytest

from conftest import SHARED
from grouprep import metrics
from grouprep import pooling
from grouprep.data import lake as lake_data
from grouprep import encoder as encoder_lib
from grouprep.evaluators import lake as lake_eval


def dist(a, b):
  return float(np.linalg.norm(np.asarray(a, float) - np.asarray(b, float)))


def test_distance_stats_known_answer():
  # Two labels; same-label groups 1 apart, labels 10 apart on the x axis.
  emb = np.array([[0, 0], [1, 0], [10, 0], [11, 0]], float)
  lab = np.array([0, 0, 1, 1])
  s = metrics.distance_stats(emb, lab)
  assert s["same_label_mean"] == pytest.approx(1.0)
  assert s["diff_label_mean"] == pytest.approx((10 + 11 + 9 + 10) / 4)
  assert s["ratio"] == pytest.approx(10.0)


def test_distance_stats_match_a_pair_loop_on_unequal_labels():
  """Every same-label and every different-label pair counts once (labels of
  3, 2 and 4 groups: a mean of per-label means would differ)."""
  rng = np.random.default_rng(4)
  emb, lab = rng.normal(size=(9, 3)), np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
  pairs = list(itertools.combinations(range(9), 2))
  same = [dist(emb[i], emb[j]) for i, j in pairs if lab[i] == lab[j]]
  diff = [dist(emb[i], emb[j]) for i, j in pairs if lab[i] != lab[j]]
  s = metrics.distance_stats(emb, lab)
  assert s["same_label_mean"] == pytest.approx(np.mean(same))
  assert s["diff_label_mean"] == pytest.approx(np.mean(diff))
  assert s["ratio"] == pytest.approx(np.mean(diff) / np.mean(same))


def test_distance_stats_per_label_matches_loops():
  rng = np.random.default_rng(0)
  emb, lab = rng.normal(size=(9, 3)), np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
  got = metrics.distance_stats_per_label(emb, lab, ["a", "b", "c"])
  for k, name in enumerate("abc"):
    same = [dist(emb[i], emb[j]) for i, j in itertools.combinations(range(9), 2)
            if lab[i] == lab[j] == k]
    diff = [dist(emb[i], emb[j]) for i in range(9) for j in range(9)
            if lab[i] == k and lab[j] != k]
    assert got[name]["same_label_mean"] == pytest.approx(np.mean(same))
    assert got[name]["diff_label_mean"] == pytest.approx(np.mean(diff))


def test_retrieval_perfect_and_known_ap():
  emb = np.array([[0, 0], [0.1, 0], [5, 5], [5.1, 5]])
  lab = np.array([0, 0, 1, 1])
  r = metrics.group_retrieval(emb, lab)
  assert r == {"recall_at_1": 1.0, "map": 1.0}
  # Query 0's same-label partner is ranked 2nd of 3: AP = 1/2, R@1 = 0.
  emb = np.array([[0.0], [2.0], [1.0], [10.0]])
  lab = np.array([0, 0, 1, 1])
  r = metrics.group_retrieval(emb, lab)
  # queries: 0 -> [2, 1, 3]: AP 1/2, miss; 1 -> [2, 0, 3]: AP 1/2, miss;
  # 2 -> [0 or 1, ..., 3]: partner last: AP 1/3, miss; 3 -> [1, 2, 0]: AP 1/2.
  assert r["recall_at_1"] == 0.0
  assert r["map"] == pytest.approx((0.5 + 0.5 + 1 / 3 + 0.5) / 4)


def test_retrieval_matches_a_loop_with_several_relevant_and_a_lone_label():
  """AP averages the precision at each relevant rank (3 and 4 groups a
  label: several relevant per query); a label of one group queries nothing."""
  rng = np.random.default_rng(5)
  lab = np.array([0, 0, 0, 1, 1, 1, 1, 2, 3, 3])  # label 2: a lone group
  emb = rng.normal(size=(len(lab), 3)) + lab[:, None] * 0.4
  recalls, aps = [], []
  for q in range(len(lab)):
    others = sorted((dist(emb[q], emb[j]), j) for j in range(len(lab))
                    if j != q)
    rel = [lab[j] == lab[q] for _, j in others]
    if not any(rel):
      continue
    recalls.append(float(rel[0]))
    hits = np.cumsum(rel)
    aps.append(np.mean([hits[k] / (k + 1) for k in range(len(rel)) if rel[k]]))
  assert len(aps) == len(lab) - 1 and 0 < np.mean(aps) < 1
  r = metrics.group_retrieval(emb, lab)
  assert r["recall_at_1"] == pytest.approx(np.mean(recalls))
  assert r["map"] == pytest.approx(np.mean(aps))


def brute_force_theorem1(group_emb, group_label, items, item_group):
  labels = group_label[item_group]
  n = len(items)
  m = max(dist(items[a], items[p]) - dist(items[a], items[q])
          for a in range(n) for p in range(n) for q in range(n)
          if p != a and labels[p] == labels[a] and labels[q] != labels[a])
  holds, ratios, bounds = [], [], []
  for g1, g2 in itertools.combinations(range(len(group_label)), 2):
    if group_label[g1] != group_label[g2]:
      continue
    candidates = []
    for neg in range(len(group_label)):
      if group_label[neg] == group_label[g1]:
        continue
      for first in (g1, g2):
        md = max(dist(items[i], items[j]) for i in np.flatnonzero(item_group == first)
                 for j in np.flatnonzero(item_group == neg))
        candidates.append(2 * max(m, md))
    bound = min(candidates)
    d = dist(group_emb[g1], group_emb[g2])
    holds.append(d <= bound)
    ratios.append(d / bound)
    bounds.append(bound)
  return m, np.mean(holds), np.mean(ratios), np.mean(bounds)


def _theorem1_case():
  rng = np.random.default_rng(3)
  sizes = [3, 2, 4, 3, 2, 3]
  group_label = np.array([0, 0, 1, 1, 2, 2])
  item_group = np.repeat(np.arange(6), sizes)
  items = rng.normal(size=(len(item_group), 2)) + 3 * group_label[item_group][:, None]
  offsets = np.r_[0, np.cumsum(sizes)]
  cents = np.stack([items[item_group == g].mean(0) for g in range(6)])
  return cents, group_label, items, offsets, item_group


def test_theorem1_against_brute_force():
  cents, group_label, items, offsets, item_group = _theorem1_case()
  got = metrics.theorem1(cents, group_label, items, offsets)
  m, holds, ratio, bound = brute_force_theorem1(cents, group_label, items,
                                                item_group)
  assert got["margin_m"] == pytest.approx(m, rel=1e-5)
  assert got["margin_source"] == "these_groups"
  assert got["bound_holds_fraction"] == pytest.approx(holds)
  assert got["mean_distance_over_bound"] == pytest.approx(ratio, rel=1e-5)
  assert got["bound_mean"] == pytest.approx(bound, rel=1e-5)
  assert metrics.triplet_margin(items, group_label[item_group], offsets) == \
      pytest.approx(m, rel=1e-5)


def test_theorem1_with_a_margin_from_elsewhere_matches_brute_force():
  cents, group_label, items, offsets, item_group = _theorem1_case()
  for m_train in (-1.0, 0.5, 3.0):
    got = metrics.theorem1(cents, group_label, items, offsets,
                           margin_m=m_train)
    bounds, holds = [], []
    for g1, g2 in itertools.combinations(range(6), 2):
      if group_label[g1] != group_label[g2]:
        continue
      bound = min(2 * max(m_train, max(
          dist(items[i], items[j]) for i in np.flatnonzero(item_group == first)
          for j in np.flatnonzero(item_group == neg)))
                  for neg in range(6) if group_label[neg] != group_label[g1]
                  for first in (g1, g2))
      bounds.append(bound)
      holds.append(dist(cents[g1], cents[g2]) <= bound)
    assert got["margin_source"] == "train_groups"
    assert got["bound_mean"] == pytest.approx(np.mean(bounds), rel=1e-5)
    assert got["bound_holds_fraction"] == pytest.approx(np.mean(holds))


def test_theorem1_as_evaluate_calls_it_can_fail():
  # Training groups: tight, well separated (m < 0). Evaluation: label 0's two
  # groups lie far apart while a group of label 1 sits on top of the first,
  # so the bound 2 max{m, D} with the small D is violated.
  rng = np.random.default_rng(0)
  tr_label = np.repeat([0, 0, 1, 1], 10)
  tr = rng.normal(scale=0.01, size=(40, 2)) + 10 * tr_label[:, None]
  m_train = metrics.triplet_margin(tr, tr_label, np.arange(0, 41, 10))
  assert m_train < 0
  centres = np.array([[0, 0], [50, 0], [0.1, 0], [0, 30]], float)
  group_label = np.array([0, 0, 1, 1])
  items = np.repeat(centres, 10, axis=0) + rng.normal(scale=0.01, size=(40, 2))
  offsets = np.arange(0, 41, 10)
  cents = np.stack([items[o:o + 10].mean(0) for o in offsets[:-1]])
  got = metrics.theorem1(cents, group_label, items, offsets, margin_m=m_train)
  assert got["bound_holds_fraction"] < 1.0
  # Measured on the evaluation items themselves it holds by construction.
  assert metrics.theorem1(cents, group_label, items,
                          offsets)["bound_holds_fraction"] == 1.0
  # 200 random embedding sets: with m from the same items, never below 1.
  for seed in range(200):
    r = np.random.default_rng(seed)
    x = r.normal(size=(12, 3))
    c = np.stack([x[o:o + 3].mean(0) for o in range(0, 12, 3)])
    assert metrics.theorem1(c, np.array([0, 0, 1, 1]), x,
                            np.arange(0, 13, 3))["bound_holds_fraction"] == 1.0


def test_ordered_triplet_fraction_matches_exhaustive_count():
  # Unequal labels, and drawings present twice (rotated copies): a copy of
  # the anchor's drawing is never its positive; triplets weigh equally.
  rng = np.random.default_rng(5)
  label = np.repeat(np.arange(4), [4, 6, 10, 16])
  drawing = np.arange(36) // 2
  x = rng.normal(size=(36, 3)) + 0.8 * label[:, None]
  x[1::2] = x[::2] + 0.05 * rng.normal(size=(18, 3))  # near-identical copies
  ordered = [dist(x[a], x[p]) < dist(x[a], x[n])
             for a in range(36) for p in range(36) for n in range(36)
             if drawing[p] != drawing[a] and label[p] == label[a]
             and label[n] != label[a]]
  got = metrics.ordered_triplet_fraction(x, label, 400_000, seed=0,
                                         item_drawing=drawing)
  assert 0.05 < np.mean(ordered) < 0.95
  assert got == pytest.approx(np.mean(ordered), abs=0.004)
  # Counting the copies as positives would inflate it.
  with_copies = metrics.ordered_triplet_fraction(x, label, 400_000, seed=0)
  assert with_copies > got + 0.01


@pytest.mark.parametrize("space,pools_in_loss", [("unit", True),
                                                 ("unit", False),
                                                 ("raw", True)])
@pytest.mark.parametrize("pool", ["centroid", "medoid"])
def test_item_to_group_accuracy_matches_brute_force(pool, space,
                                                    pools_in_loss):
  # Rotation-style groups: 3 labels x 2 groups; the two groups of a label hold
  # "rotated copies" of the same 4 drawings (images 4k..4k+3).
  rng = np.random.default_rng(2)
  item_group = np.repeat(np.arange(6), 4)
  group_label = np.array([0, 0, 1, 1, 2, 2])
  item_image = 4 * group_label[item_group] + np.tile(np.arange(4), 6)
  raw = rng.normal(size=(24, 2)) + 1.5 * group_label[item_group][:, None]
  unit = lambda v: v / np.linalg.norm(v, axis=-1, keepdims=True)
  fn = lambda v: np.asarray(pooling.get_pooling(pool)(np.asarray(v, np.float32)))
  to_space = unit if space == "unit" else (lambda v: v)
  pool_in = raw if pools_in_loss else to_space(raw)
  post = to_space if pools_in_loss else (lambda v: v)
  group = lambda rows: post(fn(pool_in[rows]))
  items = to_space(raw)
  g_emb = np.stack([group(np.flatnonzero(item_group == g)) for g in range(6)])
  correct = []
  for i in range(24):
    scores = []
    for g in range(6):
      rows = [j for j in np.flatnonzero(item_group == g)
              if item_image[j] != item_image[i]]  # every copy of the drawing
      scores.append(dist(items[i], group(rows) if len(rows) < 4 else g_emb[g]))
    correct.append(group_label[np.argmin(scores)] == group_label[item_group[i]])
  sp = encoder_lib.Space(space, pools_in_loss, pool)
  members = [np.flatnonzero(item_group == g) for g in range(6)]
  np.testing.assert_allclose(sp.groups(sp.pool_input(raw), members), g_emb,
                             rtol=1e-5, atol=1e-6)
  got = metrics.item_to_group_accuracy(
      sp.items(raw), item_group, item_image, g_emb, group_label,
      lambda g: sp.leave_out(sp.pool_input(raw)[members[g]]))
  assert got == pytest.approx(np.mean(correct))
  assert 0 < got < 1  # the case is not trivial


def test_size_curve_matches_a_brute_force_loop():
  rng = np.random.default_rng(4)
  alphabet = np.repeat(np.arange(3), 5 * 4)           # 3 alphabets
  character = np.repeat(np.arange(15), 4)             # 5 characters each
  emb = rng.normal(size=(60, 3)) + 0.7 * alphabet[:, None]
  centroid = lambda members: np.stack([emb[m].mean(0) for m in members])
  sizes, resamples, sets, seed = (1, 3, 0), 4, 2, 7
  got = metrics.group_size_curve(alphabet, character, sizes, resamples, sets,
                                 seed, centroid)
  want = {n: {"recall_at_1": [], "ratio": []} for n in sizes}
  for r in range(resamples):
    groups = []  # (alphabet, item list) in (alphabet, set) order
    for a in range(3):
      chars = np.unique(character[alphabet == a])
      perm = np.random.default_rng([seed, r, a]).permutation(chars)
      for part in np.array_split(perm, sets):
        groups.append((a, [i for i in range(60) if character[i] in part]))
    for n in sizes:
      pick = np.random.default_rng([seed, r, n])
      chosen = [(a, m if n == 0 or len(m) <= n else
                 sorted(pick.choice(m, n, replace=False))) for a, m in groups]
      c = [np.mean(emb[m], axis=0) for _, m in chosen]
      lab = [a for a, _ in chosen]
      hits, same, diff = [], [], []
      for i in range(len(c)):
        d = [dist(c[i], c[j]) if j != i else np.inf for j in range(len(c))]
        hits.append(lab[int(np.argmin(d))] == lab[i])
        for j in range(i + 1, len(c)):
          (same if lab[i] == lab[j] else diff).append(dist(c[i], c[j]))
      want[n]["recall_at_1"].append(np.mean(hits))
      want[n]["ratio"].append(np.mean(diff) / np.mean(same))
  assert set(got) == {"1", "3", "all"}
  t = 3.182446305284263  # t_{0.975, 3}
  for n in sizes:
    for k in ("recall_at_1", "ratio"):
      v = np.array(want[n][k])
      cell = got[str(n) if n else "all"][k]
      assert cell["mean"] == pytest.approx(v.mean())
      assert cell["ci95"] == pytest.approx(t * v.std(ddof=1) / 2)
      assert cell["n"] == resamples
  # "all" still has a spread: the character split is redrawn.
  assert got["all"]["ratio"]["ci95"] > 0


def test_fewshot_trivially_separable_is_perfect_and_chance_is_chance():
  classes = np.repeat(np.arange(30), 20)
  sep = np.eye(30)[classes] * 10
  r = metrics.fewshot_accuracy(sep, classes, ways=20, shots=1, episodes=1000)
  assert r["mean"] == 1.0 and r["ci95"] == 0.0 and r["episodes"] == 1000
  noise = np.random.default_rng(0).normal(size=(600, 8))
  r = metrics.fewshot_accuracy(noise, classes, ways=5, shots=1, episodes=1000)
  assert abs(r["mean"] - 0.2) < 3 * r["ci95"] + 0.01


def test_episodes_have_distinct_classes_and_items():
  # Classes of 5 to 9 items (an item past a small class's end would belong
  # to the next one), class 10 too small for 2 shots + 3 queries, shuffled.
  sizes = [5, 6, 7, 8, 9, 5, 6, 7, 8, 9, 3]
  classes = np.random.default_rng(1).permutation(
      np.repeat(np.arange(len(sizes)), sizes))
  s, q = metrics.sample_episodes(classes, 5, 2, 3, 50, seed=0)
  assert s.shape == (50, 5, 2) and q.shape == (50, 5, 3)
  both = np.concatenate([s, q], axis=2)
  assert np.all(classes[both] == classes[both][..., :1])
  assert not np.isin(classes[both], [10]).any()
  for e in range(50):
    assert len(set(classes[both[e, :, 0]])) == 5
    assert len(set(both[e].ravel())) == 25


def test_lake_rule_on_a_hand_made_run(tmp_path):
  # Training image j: a bar in row 10 * j; test image i is a noisy copy of
  # training image (i + 1) % 3, except test 2 which copies training 0.
  size = 105
  train = []
  for j in range(3):
    img = np.ones((size, size), bool)
    img[10 * j + 5:10 * j + 8, 20:80] = False
    train.append(img)
  truth = [1, 2, 0]
  test = [train[1], train[2], train[0]]
  path = tmp_path / "runs.zip"
  with zipfile.ZipFile(path, "w") as z:
    lines = []
    for j, img in enumerate(train):
      buf = io.BytesIO()
      from PIL import Image
      Image.fromarray(img).save(buf, format="PNG")
      z.writestr(f"run01/training/class{j + 1:02d}.png", buf.getvalue())
    for i, img in enumerate(test):
      buf = io.BytesIO()
      Image.fromarray(img).save(buf, format="PNG")
      z.writestr(f"run01/test/item{i + 1:02d}.png", buf.getvalue())
      lines.append(f"run01/test/item{i + 1:02d}.png "
                   f"run01/training/class{truth[i] + 1:02d}.png")
    z.writestr("run01/class_labels.txt", "\n".join(lines))
  runs = lake_data.load_runs(str(path), 105)
  (tr, te, label), = runs
  np.testing.assert_array_equal(label, truth)
  assert tr[0, 6, 30] == 255 and tr[0, 0, 0] == 0  # strokes bright
  flat = lambda x: x.reshape(len(x), -1).astype(float)
  assert lake_eval.lake_error(runs, flat) == 0.0
  # A featurizer that sees nothing: every test image ties, argmin picks 0.
  assert lake_eval.lake_error(runs, lambda x: np.zeros((len(x), 1))) == \
      pytest.approx(2 / 3)
  # A second run, its training classes in another order: each run reads its
  # own slice of the features computed once, and the error is their mean.
  # Its test images all copy its class 0, so the blind featurizer's argmin
  # is right there: (2/3 + 0) / 2.
  perm = np.array([2, 0, 1])
  two = runs + [(tr[perm], te[[1, 1, 1]], np.array([0, 0, 0]))]
  assert lake_eval.lake_error(two, flat) == 0.0
  assert lake_eval.lake_error(two, lambda x: np.zeros((len(x), 1))) == \
      pytest.approx(1 / 3)


def test_nearest_neighbour_error_counts_mistakes():
  train = np.array([[0.0], [10.0]])
  test = np.array([[1.0], [9.0], [2.0]])
  assert metrics.nearest_neighbour_error(test, train, np.array([0, 1, 1])) == \
      pytest.approx(1 / 3)


@pytest.mark.skipif(not __import__("os").path.exists(
    f"{SHARED}/omniglot/all_runs.zip"), reason="../shared/omniglot absent")
def test_official_lake_runs_load():
  runs = lake_data.load_runs(f"{SHARED}/omniglot/all_runs.zip", 28)
  assert len(runs) == 20
  for train, test, label in runs:
    assert train.shape == test.shape == (20, 28, 28)
    assert sorted(label) == list(range(20))


@pytest.mark.parametrize("name,space", [("gi_centroid", "unit"),
                                        ("gg_medoid", "unit"),
                                        ("protonet", "raw"),
                                        ("triplet", "unit"),
                                        ("smog", "unit"),
                                        ("item_item", "unit"),
                                        ("groupface", "unit"),
                                        ("group_loss", "unit")])
def test_evaluation_space_is_the_one_the_loss_computes(name, space):
  """Distances between evaluated items and groups order candidates exactly as
  the method's loss scores them."""
  import importlib
  import jax.numpy as jnp
  from grouprep import losses
  from grouprep.methods.registry import get_method
  config = importlib.import_module(f"configs.{name}").get_config()
  method = get_method(config.loss)
  assert method.embedding_space == space
  rng = np.random.default_rng(0)
  raw = (rng.normal(size=(12, 5)) * rng.uniform(0.5, 9, size=(12, 1))).astype(
      np.float32)
  members = [np.arange(0, 4), np.arange(4, 8), np.arange(8, 12)]
  sp = encoder_lib.Space.of(method, config.loss.pooling)
  items, groups = sp.items(raw), sp.groups(sp.pool_input(raw), members)
  if method.pools_in_loss:  # the loss pools raw items, then compares
    pooled = pooling.get_pooling(config.loss.pooling)(
        jnp.asarray(raw).reshape(3, 4, 5))
    sim = np.asarray(losses.pairwise_similarity(
        jnp.asarray(raw), pooled, kind=config.loss.similarity))
    d = metrics.pairwise_distances(items, groups)
    if space == "unit":  # ||u - v||^2 = 2 - 2 cos
      np.testing.assert_allclose(d ** 2, 2 - 2 * sim, atol=1e-5)
    else:
      np.testing.assert_allclose(d ** 2, -sim, rtol=1e-4, atol=1e-4)
  else:  # items compared on the unit sphere; groups pooled from them there
    np.testing.assert_allclose(np.linalg.norm(items, axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(  # atol: a GPU's summation order
        groups, np.stack([items[m].mean(0) for m in members]), rtol=1e-6,
        atol=1e-8)
