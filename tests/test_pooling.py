"""Centroid, medoid, soft medoid and attention pooling against naive loops
(the Set Transformer's in test_set_encoders.py), the
medoid's gradient and leave-one-out of every pooling, each with and without
jit (chex variants)."""
import functools

from absl.testing import parameterized
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from grouprep import pooling
from grouprep import set_encoders


def naive_medoid_index(items):
  m = len(items)
  costs = [sum(np.linalg.norm(items[i] - items[j]) for j in range(m))
           for i in range(m)]
  return int(np.argmin(costs))  # argmin: the lowest index wins ties


def naive_medoid(items):
  return items[naive_medoid_index(items)]


def naive_soft_medoid(items, t):
  m = len(items)
  s = np.array([sum(np.linalg.norm(items[i] - items[j]) for j in range(m))
                for i in range(m)])
  w = np.exp(-s / (t * s.mean()) - np.max(-s / (t * s.mean())))
  return (w / w.sum()) @ items


def naive_attention(items, params):
  d = items.shape[-1]
  logits = [float(params["query"] @ (m @ params["key"])) / np.sqrt(d)
            for m in items]
  w = np.exp(np.array(logits) - max(logits))
  return (w / w.sum()) @ items


ATTENTION = {"query": np.array([0.5, -1.0, 2.0], np.float32),
             "key": np.arange(9, dtype=np.float32).reshape(3, 3) / 9}
# Each learned pooling's parameters for items of D = 3.
LEARNED_PARAMS = {
    "attention": ATTENTION,
    "set_transformer": set_encoders.init_pooling(
        jax.random.PRNGKey(0), 3, block="isab", heads=3, inducing_points=2,
        seeds=2, layer_norm=True),
}


class PoolingTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.parameters((5, 3), (4, 6, 2), (2, 3, 7, 4), (1, 8))
  def test_centroid_and_medoid_match_loops(self, *shape):
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    flat = x.reshape((-1,) + shape[-2:])
    chex.assert_trees_all_close(
        self.variant(pooling.centroid)(x).reshape(-1, shape[-1]),
        np.stack([g.mean(0) for g in flat]), rtol=1e-5, atol=1e-6)
    chex.assert_trees_all_close(
        self.variant(pooling.medoid)(x).reshape(-1, shape[-1]),
        np.stack([naive_medoid(g) for g in flat]), rtol=1e-6)

  @chex.variants(with_jit=True, without_jit=True)
  def test_medoid_ties_go_to_lowest_index(self):
    medoid_index = self.variant(pooling.medoid_index)
    # Members 0 and 2 are identical and both central: index 0 is chosen.
    x = jnp.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [-1.0, 0.0]])
    chex.assert_trees_all_equal(medoid_index(x), np.array(0))
    x = jnp.array([[1.0], [-1.0]])  # symmetric pair
    chex.assert_trees_all_equal(medoid_index(x), np.array(0))

  @chex.variants(with_jit=True, without_jit=True)
  def test_medoid_ties_go_to_the_lowest_index_far_from_the_origin(self):
    # Two members always tie (each is the other's only distance). In float32
    # at norm ~40 an unmasked diagonal of |x|^2 + |x|^2 - 2 x.x is not 0, and
    # its square root (~0.016) decided such ties before the diagonal was
    # masked.
    x = np.random.default_rng(0).normal(size=(500, 2, 64)).astype(np.float32)
    x = 5.0 * x + 40.0 / 8.0
    chex.assert_trees_all_equal(self.variant(pooling.medoid_index)(x),
                                np.zeros(500, np.int32))

  @chex.variants(with_jit=True, without_jit=True)
  def test_medoid_gradient_reaches_only_the_selected_member(self):
    x = jnp.array([[5.0, 5.0], [0.1, 0.0], [0.0, 0.2], [-0.3, 0.0]])
    sel = int(self.variant(pooling.medoid_index)(x))
    self.assertEqual(sel, naive_medoid_index(np.asarray(x)))
    w = jnp.array([1.0, 2.0])
    g = self.variant(jax.grad(lambda x: jnp.sum(pooling.medoid(x) * w)))(x)
    want = np.zeros((4, 2), np.float32)
    want[sel] = [1.0, 2.0]
    chex.assert_trees_all_equal(g, want)

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.parameters(0.1, 1.0)
  def test_soft_medoid_matches_loop(self, t):
    x = np.random.default_rng(1).normal(size=(3, 6, 4)).astype(np.float32)
    soft = self.variant(functools.partial(pooling.soft_medoid, temperature=t))
    chex.assert_trees_all_close(
        soft(x), np.stack([naive_soft_medoid(g.astype(np.float64), t)
                           for g in x]),
        rtol=1e-4, atol=1e-5)

  @chex.variants(with_jit=True, without_jit=True)
  def test_soft_medoid_limits_and_gradient(self):
    x = np.random.default_rng(1).normal(size=(3, 6, 4)).astype(np.float32)
    cold = self.variant(functools.partial(pooling.soft_medoid,
                                          temperature=1e-4))
    hot = self.variant(functools.partial(pooling.soft_medoid,
                                         temperature=1e4))
    # T -> 0: the medoid; T -> inf: the centroid.
    chex.assert_trees_all_close(cold(x), np.stack([naive_medoid(g) for g in x]),
                                atol=1e-4)
    chex.assert_trees_all_close(hot(x), x.mean(1), atol=1e-4)
    g = self.variant(jax.grad(lambda v: jnp.sum(pooling.soft_medoid(v))))(
        jnp.asarray(x))
    chex.assert_tree_all_finite(g)
    self.assertTrue(np.all(np.asarray(g) != 0))

  @chex.variants(with_jit=True, without_jit=True)
  def test_attention_pooling_starts_at_the_centroid(self):
    x = np.random.default_rng(2).normal(size=(2, 5, 3)).astype(np.float32)
    params = pooling.init_attention(jax.random.PRNGKey(0), 3)
    chex.assert_trees_all_close(self.variant(pooling.attention)(x, params),
                                x.mean(1), rtol=1e-5, atol=1e-6)

  @chex.variants(with_jit=True, without_jit=True)
  def test_attention_pooling_matches_loop(self):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    params = {"query": rng.normal(size=3).astype(np.float32),
              "key": rng.normal(size=(3, 3)).astype(np.float32)}
    chex.assert_trees_all_close(
        self.variant(pooling.attention)(x, params),
        np.stack([naive_attention(g, params) for g in x]), rtol=1e-4,
        atol=1e-5)

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.parameters(*sorted(pooling.POOLINGS))
  def test_leave_one_out_is_the_pooling_without_each_member(self, name):
    """Every registered pooling, leave-one-out by masking, against pooling the
    group with member k deleted; padded members (mask False) change nothing."""
    x = np.random.default_rng(1).normal(size=(7, 3)).astype(np.float32)
    params = LEARNED_PARAMS.get(name)
    reference = pooling.get_pooling(name, params)  # eager, on deleted rows
    want = np.stack([np.asarray(reference(np.delete(x, k, 0)))
                     for k in range(7)])
    pool = self.variant(pooling.get_pooling(name, params))
    loo = self.variant(pooling.leave_one_out(name, params))
    chex.assert_trees_all_close(loo(x), want, rtol=1e-5, atol=1e-6)
    padded = np.concatenate([x, 9 * np.ones((5, 3), np.float32)])
    mask = np.arange(12) < 7
    chex.assert_trees_all_close(loo(padded, mask)[:7], want, rtol=1e-5,
                                atol=1e-6)
    chex.assert_trees_all_close(pool(padded, mask), reference(x), rtol=1e-5,
                                atol=1e-6)

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.parameters(*sorted(pooling.POOLINGS))
  def test_mask_of_the_wrong_shape_raises(self, name):
    params = LEARNED_PARAMS.get(name)
    pool = self.variant(pooling.get_pooling(name, params))
    loo = self.variant(pooling.leave_one_out(name, params))
    x = np.ones((2, 7, 3), np.float32)  # two groups of M=7, D=3
    # A mask of one group would broadcast over both; chex refuses it.
    with self.assertRaisesRegex(
        AssertionError, r"input 0 has shape \(7,\) but expected \(2, 7\)"):
      pool(x, np.ones(7, bool))
    with self.assertRaisesRegex(
        AssertionError, r"input 0 has shape \(2, 6\) but expected \(2, 7\)"):
      pool(x, np.ones((2, 6), bool))  # one member short
    with self.assertRaisesRegex(
        AssertionError, r"input 0 has shape \(7,\) but expected \(2, 7\)"):
      loo(x, np.ones(7, bool))


def test_unknown_pooling_is_named():
  with pytest.raises(ValueError, match="loss.pooling"):
    pooling.get_pooling("max")


def test_learned_pooling_needs_its_parameters():
  with pytest.raises(ValueError, match="learned"):
    pooling.get_pooling("attention")
