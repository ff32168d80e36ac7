"""On-device augmentation: identity at zero, a pure zoom/shift otherwise."""
import jax
import jax.numpy as jnp
import numpy as np

from grouprep.data import augment


def test_zero_zoom_and_shift_is_the_identity():
  x = jnp.asarray(np.random.default_rng(0).random((3, 12, 12, 1)), jnp.float32)
  out = augment.random_affine(x, jnp.ones(3), jnp.zeros((3, 2)))
  np.testing.assert_allclose(np.asarray(out), np.asarray(x), atol=1e-6)


def test_whole_pixel_shift_moves_the_image():
  x = jnp.zeros((1, 12, 12, 1)).at[0, 4:6, 4:6].set(1.0)
  out = augment.random_affine(x, jnp.ones(1), jnp.array([[2 / 12, -1 / 12]]))
  want = jnp.zeros((1, 12, 12, 1)).at[0, 6:8, 3:5].set(1.0)
  np.testing.assert_allclose(np.asarray(out), np.asarray(want), atol=1e-6)


def test_params_are_seeded_and_in_range():
  s1, t1 = augment.random_affine_params(jax.random.PRNGKey(0), 100)
  s2, t2 = augment.random_affine_params(jax.random.PRNGKey(0), 100)
  np.testing.assert_array_equal(s1, s2)
  np.testing.assert_array_equal(t1, t2)
  assert np.all(np.abs(np.asarray(s1) - 1) <= 0.15)
  assert np.all(np.abs(np.asarray(t1)) <= 0.1)
