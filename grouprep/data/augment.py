"""On-device augmentation for the methods that contrast two augmentations of
an item (item-item InfoNCE, SMoG). Pure and jittable."""
import jax
import jax.numpy as jnp


def random_affine_params(rng: jax.Array, b: int, *, max_scale: float = 0.15,
                         max_shift: float = 0.1):
  """Zoom factors [b] in [1 - max_scale, 1 + max_scale] and shifts [b, 2] in
  [-max_shift, max_shift] (fractions of the image side)."""
  k_scale, k_shift = jax.random.split(rng)
  scale = 1.0 + jax.random.uniform(k_scale, (b,), minval=-max_scale,
                                   maxval=max_scale)
  shift = jax.random.uniform(k_shift, (b, 2), minval=-max_shift,
                             maxval=max_shift)
  return scale, shift


def random_affine(images: jax.Array, scale: jax.Array,
                  shift: jax.Array) -> jax.Array:
  """Each image zoomed by scale[i] about its centre and shifted by
  shift[i] * S pixels (bilinear; 0 outside). [B, S, S, 1] -> [B, S, S, 1]."""
  s = images.shape[1]

  def one(img, sc, sh):
    t = (1.0 - sc) * s / 2.0 + sh * s  # zoom about the centre, then shift
    return jax.image.scale_and_translate(
        img, (s, s, 1), (0, 1), jnp.stack([sc, sc]), t, method="linear")

  return jax.vmap(one)(images, scale, shift)
