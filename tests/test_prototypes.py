"""assign, ema_update, kmeans and usage against loops, each with and without
jit (chex variants); the synchronous update across devices."""
import functools

from absl.testing import parameterized
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from grouprep import prototypes


def naive_ema(protos, items, assign, mom):
  out = protos.copy()
  for k in range(len(protos)):
    members = [items[i] for i in range(len(items)) if assign[i] == k]
    if members:
      out[k] = mom * protos[k] + (1 - mom) * np.mean(members, axis=0)
  return out


def naive_kmeans(points, valid, centres, iterations):
  centres = np.array(centres, np.float64)
  for _ in range(iterations):
    unit = lambda v: v / np.linalg.norm(v)
    groups = {}
    for p, ok in zip(points, valid):
      if ok:
        k = int(np.argmax([unit(p) @ unit(c) for c in centres]))
        groups.setdefault(k, []).append(p)
    for k, members in groups.items():
      centres[k] = unit(np.sum(members, 0))
  return centres


class PrototypesTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_assign_matches_loop(self):
    rng = np.random.default_rng(0)
    items, protos = rng.normal(size=(20, 5)), rng.normal(size=(6, 5))
    want = [int(np.argmax([p @ x / np.linalg.norm(p) / np.linalg.norm(x)
                           for p in protos])) for x in items]
    chex.assert_trees_all_equal(self.variant(prototypes.assign)(items, protos),
                                np.array(want))

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.parameters((4, 10), (8, 3), (1, 5))
  def test_ema_update_matches_loop(self, k, n):
    rng = np.random.default_rng(k)
    protos, items = rng.normal(size=(k, 3)), rng.normal(size=(n, 3))
    assign = rng.integers(0, k, size=n)
    update = self.variant(functools.partial(prototypes.ema_update,
                                            momentum=0.9))
    chex.assert_trees_all_close(update(protos, items, assign),
                                naive_ema(protos, items, assign, 0.9),
                                rtol=1e-5)

  @chex.variants(with_jit=True, without_jit=True)
  def test_kmeans_matches_loop_and_ignores_invalid_rows(self):
    rng = np.random.default_rng(0)
    points = rng.normal(size=(40, 3)).astype(np.float32)
    valid = np.arange(40) < 30
    points[30:] = 100.0  # invalid rows would drag a centre if they counted
    init = rng.normal(size=(5, 3)).astype(np.float32)
    kmeans = self.variant(functools.partial(prototypes.kmeans, iterations=4))
    chex.assert_trees_all_close(
        kmeans(jnp.asarray(points), jnp.asarray(valid), jnp.asarray(init)),
        naive_kmeans(points, valid, init, 4), atol=1e-5)

  @chex.variants(with_jit=True, without_jit=True)
  def test_usage_counts_groups_and_entropy(self):
    usage = self.variant(functools.partial(prototypes.usage, num_prototypes=4))
    used, entropy = usage(jnp.array([0, 0, 1, 3]))
    self.assertEqual(int(used), 3)
    p = np.array([0.5, 0.25, 0.25])
    chex.assert_trees_all_close(entropy, -(p * np.log(p)).sum() / np.log(4),
                                rtol=1e-5)

  @chex.variants(with_jit=True, without_jit=True)
  def test_wrong_shapes_raise_naming_them(self):
    update = self.variant(functools.partial(prototypes.ema_update,
                                            momentum=0.9))
    protos, items = np.ones((4, 3)), np.ones((10, 3))  # K=4, N=10, D=3
    with self.assertRaisesRegex(AssertionError,
                                r"shape suffixes: \[\(3,\), \(5,\)\]"):
      update(protos, np.ones((10, 5)), np.zeros(10, int))  # items' D is 5
    with self.assertRaisesRegex(AssertionError,
                                r"shape prefixes: \[\(10,\), \(9,\)\]"):
      update(protos, items, np.zeros(9, int))  # 9 assignments for 10 items


@pytest.mark.multi_device
def test_ema_update_synchronous_equals_global_batch():
  assert jax.local_device_count() >= 2
  rng = np.random.default_rng(1)
  protos = rng.normal(size=(5, 4)).astype(np.float32)
  items = rng.normal(size=(12, 4)).astype(np.float32)
  assign = rng.integers(0, 5, size=12)
  assign[:] = np.where(assign == 4, 3, assign)  # prototype 4 stays empty
  f = jax.pmap(lambda p, x, a: prototypes.ema_update(p, x, a, 0.99,
                                                     axis_name="d"),
               axis_name="d", devices=jax.local_devices()[:2])
  got = f(np.stack([protos] * 2), items.reshape(2, 6, 4), assign.reshape(2, 6))
  want = naive_ema(protos, items, assign, 0.99)
  np.testing.assert_allclose(np.asarray(got[0]), want, rtol=1e-5)
  np.testing.assert_array_equal(np.asarray(got[0]), np.asarray(got[1]))
  np.testing.assert_array_equal(np.asarray(got[0][4]), protos[4])
