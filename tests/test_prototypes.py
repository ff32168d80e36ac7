"""assign and ema_update against loops; the synchronous update across devices."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from grouprep import prototypes


def test_assign_matches_loop():
  rng = np.random.default_rng(0)
  items, protos = rng.normal(size=(20, 5)), rng.normal(size=(6, 5))
  want = [int(np.argmax([p @ x / np.linalg.norm(p) / np.linalg.norm(x)
                         for p in protos])) for x in items]
  np.testing.assert_array_equal(np.asarray(prototypes.assign(items, protos)),
                                want)


def naive_ema(protos, items, assign, mom):
  out = protos.copy()
  for k in range(len(protos)):
    members = [items[i] for i in range(len(items)) if assign[i] == k]
    if members:
      out[k] = mom * protos[k] + (1 - mom) * np.mean(members, axis=0)
  return out


@pytest.mark.parametrize("k,n", [(4, 10), (8, 3), (1, 5)])
def test_ema_update_matches_loop(k, n):
  rng = np.random.default_rng(k)
  protos, items = rng.normal(size=(k, 3)), rng.normal(size=(n, 3))
  assign = rng.integers(0, k, size=n)
  got = prototypes.ema_update(protos, items, assign, 0.9)
  np.testing.assert_allclose(np.asarray(got), naive_ema(protos, items, assign,
                                                        0.9), rtol=1e-5)


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


def test_kmeans_matches_loop_and_ignores_invalid_rows():
  rng = np.random.default_rng(0)
  points = rng.normal(size=(40, 3)).astype(np.float32)
  valid = np.arange(40) < 30
  points[30:] = 100.0  # invalid rows would drag a centre if they counted
  init = rng.normal(size=(5, 3)).astype(np.float32)
  got = prototypes.kmeans(jnp.asarray(points), jnp.asarray(valid),
                          jnp.asarray(init), iterations=4)
  np.testing.assert_allclose(np.asarray(got),
                             naive_kmeans(points, valid, init, 4), atol=1e-5)


def test_usage_counts_groups_and_entropy():
  used, entropy = prototypes.usage(jnp.array([0, 0, 1, 3]), 4)
  assert int(used) == 3
  p = np.array([0.5, 0.25, 0.25])
  assert float(entropy) == pytest.approx(-(p * np.log(p)).sum() / np.log(4),
                                         rel=1e-5)
