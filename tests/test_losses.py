"""Every loss of SPEC §3 against a naive loop implementation, each with and
without jit (chex variants)."""
import functools
import math

from absl.testing import parameterized
import chex
import jax
import numpy as np
import pytest

from grouprep import losses

SHAPES = [(3, 4, 5), (7, 1, 16), (2, 9, 3)]  # (C, M, D)
KINDS = ["cosine", "neg_sq_euclidean"]


def naive_sim(a, b, kind, t):
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  if kind == "cosine":
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) / t
  return -float(np.sum((a - b) ** 2)) / t


def naive_nce(anchor, pos, candidates, kind, t):
  logits = [naive_sim(anchor, c, kind, t) for c in candidates]
  mx = max(logits)
  lse = mx + math.log(sum(math.exp(l - mx) for l in logits))
  return lse - naive_sim(anchor, pos, kind, t)


class LossesTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.product(kind=KINDS, t=[1.0, 0.1])
  def test_pairwise_similarity(self, kind, t):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 6)), rng.normal(size=(3, 6))
    sim = self.variant(functools.partial(losses.pairwise_similarity, kind=kind,
                                         temperature=t))
    want = [[naive_sim(x, y, kind, t) for y in b] for x in a]
    chex.assert_trees_all_close(sim(a, b), np.array(want), rtol=1e-4,
                                atol=1e-4)

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.product(kind=KINDS, shape=SHAPES)
  def test_group_item_infonce(self, kind, shape):
    c, m, d = shape
    rng = np.random.default_rng(1)
    items, groups = rng.normal(size=(c, m, d)), rng.normal(size=(c, d))
    loss = self.variant(functools.partial(
        losses.group_item_infonce, temperature=0.5, similarity=kind))
    want = np.mean([naive_nce(items[i, j], groups[i], groups, kind, 0.5)
                    for i in range(c) for j in range(m)])
    chex.assert_trees_all_close(loss(items, groups), want, rtol=1e-4,
                                atol=1e-4)

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.product([dict(c=2, d=3), dict(c=5, d=8), dict(c=9, d=4)],
                         kind=KINDS)
  def test_group_group_infonce(self, kind, c, d):
    rng = np.random.default_rng(2)
    ga, gb = rng.normal(size=(c, d)), rng.normal(size=(c, d))
    loss = self.variant(functools.partial(
        losses.group_group_infonce, temperature=0.2, similarity=kind))
    want = np.mean([naive_nce(ga[i], gb[i], gb, kind, 0.2) for i in range(c)])
    chex.assert_trees_all_close(loss(ga, gb), want, rtol=1e-4, atol=1e-4)

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.product([dict(n=2, d=3), dict(n=6, d=5)], kind=KINDS)
  def test_item_item_infonce(self, kind, n, d):
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    loss = self.variant(functools.partial(
        losses.item_item_infonce, temperature=0.3, similarity=kind))
    want = np.mean([naive_nce(a[i], b[i], b, kind, 0.3) for i in range(n)])
    chex.assert_trees_all_close(loss(a, b), want, rtol=1e-4, atol=1e-4)

  @chex.variants(with_jit=True, without_jit=True)
  def test_perfect_separation_gives_small_loss(self):
    groups = np.eye(4)
    items = np.repeat(groups[:, None], 3, axis=1)
    loss = self.variant(functools.partial(losses.group_item_infonce,
                                          temperature=0.01))
    self.assertLess(float(loss(items, groups)), 1e-6)

  # Jitted only: the streaming loss runs under jit in training, and its scan
  # op by op costs seconds per case.
  @chex.variants(with_jit=True)
  @parameterized.product([dict(shape=(3, 4, 5), chunk=5),
                          dict(shape=(7, 1, 16), chunk=2),
                          dict(shape=(5, 3, 4), chunk=64)], kind=KINDS)
  def test_streaming_group_item_matches_loop_and_dense_gradients(
      self, kind, shape, chunk):
    c, m, d = shape
    rng = np.random.default_rng(5)
    items = rng.normal(size=(c, m, d)).astype(np.float32)
    groups = rng.normal(size=(c, d)).astype(np.float32)
    stream = functools.partial(losses.group_item_infonce_streaming,
                               temperature=0.5, similarity=kind,
                               chunk_size=chunk)
    want = np.mean([naive_nce(items[i, j], groups[i], groups, kind, 0.5)
                    for i in range(c) for j in range(m)])
    chex.assert_trees_all_close(self.variant(stream)(items, groups), want,
                                rtol=1e-4)
    dense = functools.partial(losses.group_item_infonce, temperature=0.5,
                              similarity=kind)
    chex.assert_trees_all_close(
        jax.grad(dense, (0, 1))(items, groups),
        self.variant(jax.grad(stream, (0, 1)))(items, groups),
        rtol=1e-4, atol=1e-6)

  @chex.variants(with_jit=True, without_jit=True)
  def test_wrong_shapes_raise_naming_them(self):
    loss = self.variant(losses.group_item_infonce)
    items = np.ones((3, 4, 5))  # C=3, M=4, D=5
    with self.assertRaisesRegex(AssertionError,
                                r"shape prefixes: \[\(3,\), \(2,\)\]"):
      loss(items, np.ones((2, 5)))  # groups of 2 classes
    with self.assertRaisesRegex(AssertionError,
                                r"shape suffixes: \[\(5,\), \(6,\)\]"):
      loss(items, np.ones((3, 6)))  # groups of another dimension
    with self.assertRaisesRegex(AssertionError,
                                r"rank 2 \(shape \(3, 5\)\) but expected 3"):
      loss(np.ones((3, 5)), np.ones((3, 5)))  # items without the M axis


def test_losses_are_jittable_and_differentiable():
  rng = np.random.default_rng(4)
  items, groups = rng.normal(size=(4, 3, 5)), rng.normal(size=(4, 5))
  f = jax.jit(jax.grad(lambda x: losses.group_item_infonce(x, groups)))
  assert np.all(np.isfinite(np.asarray(f(items))))


def test_unknown_similarity_is_named():
  with pytest.raises(ValueError, match="loss.similarity"):
    losses.pairwise_similarity(np.ones((2, 2)), np.ones((2, 2)), kind="dot")
