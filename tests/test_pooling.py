"""Centroid and medoid against naive loops; the medoid's gradient."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from grouprep import pooling


def naive_medoid(items):
  m = len(items)
  costs = [sum(np.linalg.norm(items[i] - items[j]) for j in range(m))
           for i in range(m)]
  return items[int(np.argmin(costs))]  # argmin: the lowest index wins ties


@pytest.mark.parametrize("shape", [(5, 3), (4, 6, 2), (2, 3, 7, 4), (1, 8)])
def test_centroid_and_medoid_match_loops(shape):
  x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
  flat = x.reshape((-1,) + shape[-2:])
  np.testing.assert_allclose(
      np.asarray(pooling.centroid(x)).reshape(-1, shape[-1]),
      [g.mean(0) for g in flat], rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(
      np.asarray(pooling.medoid(x)).reshape(-1, shape[-1]),
      [naive_medoid(g) for g in flat], rtol=1e-6)


def test_medoid_ties_go_to_lowest_index():
  # Members 0 and 2 are identical and both central: index 0 is chosen.
  x = jnp.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [-1.0, 0.0]])
  assert int(pooling.medoid_index(x)) == 0
  x = jnp.array([[1.0], [-1.0]])  # symmetric pair
  assert int(pooling.medoid_index(x)) == 0


def test_medoid_gradient_reaches_only_the_selected_member():
  x = jnp.array([[5.0, 5.0], [0.1, 0.0], [0.0, 0.2], [-0.3, 0.0]])
  sel = int(pooling.medoid_index(x))
  w = jnp.array([1.0, 2.0])
  g = np.asarray(jax.grad(lambda x: jnp.sum(pooling.medoid(x) * w))(x))
  want = np.zeros_like(g)
  want[sel] = [1.0, 2.0]
  np.testing.assert_array_equal(g, want)


def test_unknown_pooling_is_named():
  with pytest.raises(ValueError, match="loss.pooling"):
    pooling.get_pooling("max")


def naive_soft_medoid(items, t):
  m = len(items)
  s = np.array([sum(np.linalg.norm(items[i] - items[j]) for j in range(m))
                for i in range(m)])
  w = np.exp(-s / (t * s.mean()) - np.max(-s / (t * s.mean())))
  return (w / w.sum()) @ items


def test_soft_medoid_matches_loop_and_its_limits():
  x = np.random.default_rng(1).normal(size=(3, 6, 4)).astype(np.float32)
  for t in (0.1, 1.0):
    np.testing.assert_allclose(
        np.asarray(pooling.soft_medoid(x, t)),
        [naive_soft_medoid(g.astype(np.float64), t) for g in x], rtol=1e-4,
        atol=1e-5)
  np.testing.assert_allclose(np.asarray(pooling.soft_medoid(x, 1e-4)),
                             np.asarray(pooling.medoid(x)), atol=1e-4)
  np.testing.assert_allclose(np.asarray(pooling.soft_medoid(x, 1e4)),
                             x.mean(1), atol=1e-4)
  g = jax.grad(lambda v: jnp.sum(pooling.soft_medoid(v)))(jnp.asarray(x))
  assert np.all(np.isfinite(g)) and np.all(np.asarray(g) != 0)


def test_attention_pooling_matches_loop_and_starts_at_the_centroid():
  rng = np.random.default_rng(2)
  x = rng.normal(size=(2, 5, 3)).astype(np.float32)
  params = pooling.init_attention(jax.random.PRNGKey(0), 3)
  np.testing.assert_allclose(np.asarray(pooling.attention(x, params)),
                             x.mean(1), rtol=1e-5, atol=1e-6)
  params = {"query": rng.normal(size=3).astype(np.float32),
            "key": rng.normal(size=(3, 3)).astype(np.float32)}
  want = []
  for g in x:
    logits = [float(params["query"] @ (m @ params["key"])) / np.sqrt(3)
              for m in g]
    w = np.exp(np.array(logits) - max(logits))
    want.append((w / w.sum()) @ g)
  np.testing.assert_allclose(np.asarray(pooling.attention(x, params)), want,
                             rtol=1e-4, atol=1e-5)
  with pytest.raises(ValueError, match="learned"):
    pooling.get_pooling("attention")


def test_medoid_ties_go_to_the_lowest_index_far_from_the_origin():
  # Two members always tie (each is the other's only distance). In float32 at
  # norm ~40 an unmasked diagonal of |x|^2 + |x|^2 - 2 x.x is not 0, and its
  # square root (~0.016) decided such ties before the diagonal was masked.
  x = np.random.default_rng(0).normal(size=(500, 2, 64)).astype(np.float32)
  x = 5.0 * x + 40.0 / 8.0
  np.testing.assert_array_equal(np.asarray(pooling.medoid_index(x)), 0)
