"""Every loss of SPEC §3 against a naive loop implementation."""
import itertools
import math

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


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("t", [1.0, 0.1])
def test_pairwise_similarity(kind, t):
  rng = np.random.default_rng(0)
  a, b = rng.normal(size=(5, 6)), rng.normal(size=(3, 6))
  got = np.asarray(losses.pairwise_similarity(a, b, kind=kind, temperature=t))
  want = [[naive_sim(x, y, kind, t) for y in b] for x in a]
  np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_group_item_infonce(kind, shape):
  c, m, d = shape
  rng = np.random.default_rng(1)
  items, groups = rng.normal(size=(c, m, d)), rng.normal(size=(c, d))
  got = float(losses.group_item_infonce(items, groups, temperature=0.5,
                                        similarity=kind))
  want = np.mean([naive_nce(items[i, j], groups[i], groups, kind, 0.5)
                  for i in range(c) for j in range(m)])
  assert got == pytest.approx(want, rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("c,d", [(2, 3), (5, 8), (9, 4)])
def test_group_group_infonce(kind, c, d):
  rng = np.random.default_rng(2)
  ga, gb = rng.normal(size=(c, d)), rng.normal(size=(c, d))
  got = float(losses.group_group_infonce(ga, gb, temperature=0.2,
                                         similarity=kind))
  want = np.mean([naive_nce(ga[i], gb[i], gb, kind, 0.2) for i in range(c)])
  assert got == pytest.approx(want, rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n,d", [(2, 3), (6, 5)])
def test_item_item_infonce(kind, n, d):
  rng = np.random.default_rng(3)
  a, b = rng.normal(size=(n, d)), rng.normal(size=(n, d))
  got = float(losses.item_item_infonce(a, b, temperature=0.3, similarity=kind))
  want = np.mean([naive_nce(a[i], b[i], b, kind, 0.3) for i in range(n)])
  assert got == pytest.approx(want, rel=1e-4, abs=1e-4)


def test_losses_are_jittable_and_differentiable():
  rng = np.random.default_rng(4)
  items, groups = rng.normal(size=(4, 3, 5)), rng.normal(size=(4, 5))
  f = jax.jit(jax.grad(lambda x: losses.group_item_infonce(x, groups)))
  assert np.all(np.isfinite(np.asarray(f(items))))


def test_perfect_separation_gives_small_loss():
  groups = np.eye(4)
  items = np.repeat(groups[:, None], 3, axis=1)
  loss = float(losses.group_item_infonce(items, groups, temperature=0.01))
  assert loss < 1e-6


def test_unknown_similarity_is_named():
  with pytest.raises(ValueError, match="loss.similarity"):
    losses.pairwise_similarity(np.ones((2, 2)), np.ones((2, 2)), kind="dot")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape,chunk", [((3, 4, 5), 5), ((7, 1, 16), 2),
                                         ((5, 3, 4), 64)])
def test_streaming_group_item_matches_loop_and_dense_gradients(kind, shape,
                                                               chunk):
  c, m, d = shape
  rng = np.random.default_rng(5)
  items = rng.normal(size=(c, m, d)).astype(np.float32)
  groups = rng.normal(size=(c, d)).astype(np.float32)
  stream = lambda i, g: losses.group_item_infonce_streaming(
      i, g, temperature=0.5, similarity=kind, chunk_size=chunk)
  want = np.mean([naive_nce(items[i, j], groups[i], groups, kind, 0.5)
                  for i in range(c) for j in range(m)])
  assert float(jax.jit(stream)(items, groups)) == pytest.approx(want, rel=1e-4)
  dense = lambda i, g: losses.group_item_infonce(i, g, temperature=0.5,
                                                 similarity=kind)
  for a, b in zip(jax.grad(dense, (0, 1))(items, groups),
                  jax.jit(jax.grad(stream, (0, 1)))(items, groups)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4,
                               atol=1e-6)
