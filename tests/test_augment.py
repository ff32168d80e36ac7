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
  s3, t3 = augment.random_affine_params(jax.random.PRNGKey(1), 100)
  assert not np.allclose(s1, s3) and not np.allclose(t1, t3)  # key used


def test_zoom_about_the_centre_resamples_a_ramp_where_it_should():
  """Zoom by s about the centre: output pixel y reads input coordinate
  (y + 1/2 - S/2) / s + S/2 - 1/2, which a linear ramp returns as its
  value (interior pixels). Bilinear keeps a linear function exactly when
  enlarging; shrinking antialiases with a widened triangle, sampled
  unevenly, off by under 0.05 px (a zoom about the wrong point or the
  inverse zoom is off by pixels)."""
  size = 16
  ramp = np.broadcast_to(np.arange(size, dtype=np.float32)[:, None, None],
                         (size, size, 1))
  y = np.arange(4, 12)
  for s, atol in ((1.25, 1e-4), (0.8, 0.05)):
    out = augment.random_affine(jnp.asarray(ramp[None]), jnp.array([s]),
                                jnp.zeros((1, 2)))
    want = (y + 0.5 - size / 2) / s + size / 2 - 0.5
    np.testing.assert_allclose(np.asarray(out)[0, 4:12, 8, 0], want,
                               atol=atol)
    # Columns of a row ramp stay constant: the zoom is about the centre.
    np.testing.assert_allclose(np.asarray(out)[0, 4:12, 4:12, 0],
                               np.broadcast_to(want[:, None], (8, 8)),
                               atol=atol)
