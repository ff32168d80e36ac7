"""The C x V x M batch sampler: a pure function of (seed, step).

A batch holds C classes, V distinct groups (views) of each class and M distinct
items of each group. The same (seed, step) always gives the same batch, so a
resumed run sees exactly the batches an uninterrupted run would have seen.

Pixels reach the step in one of two ways, with the same float32 values:
`gather_images` builds the batch on the host (NumPy), or the images live on
the device as uint8 (`image_table`, built once) and the step gathers its
items from them by index (`gather_images_on_device`).
"""
import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from grouprep.data import images as images_lib
from grouprep.data.groups import Groups
from grouprep.errors import BatchShapeError

# config.data.on_device: where the training images live
# (train.images_on_device).
ON_DEVICE = ("auto", "always", "never")


@dataclasses.dataclass(frozen=True)
class Sampler:
  """Draws item indices [C, V, M] into `groups` for each step.

  A class with fewer than V groups of at least M items is never drawn:
  `dropped_classes` lists them (sorted class ids)."""
  groups: Groups
  classes_per_batch: int
  groups_per_class: int
  items_per_group: int
  seed: int

  def __post_init__(self):
    c, v, m = self.classes_per_batch, self.groups_per_class, self.items_per_group
    g = self.groups
    if min(c, v, m) < 1:
      raise BatchShapeError(f"C={c}, V={v}, M={m} must all be >= 1.")
    big = g.group_sizes >= m
    if not big.any():
      raise BatchShapeError(
          f"config.data.items_per_group M={m} is larger than every group "
          f"(largest: {g.group_sizes.max()} items).")
    classes, counts = np.unique(g.group_class[big], return_counts=True)
    eligible = classes[counts >= v]
    object.__setattr__(self, "dropped_classes", np.setdiff1d(
        np.unique(g.group_class), eligible))
    if len(eligible) < c:
      raise BatchShapeError(
          f"config.data.classes_per_batch C={c} needs {c} classes with at least "
          f"V={v} groups of at least M={m} items; only {len(eligible)} exist "
          f"(smallest group: {g.group_sizes.min()} items, at most "
          f"{counts.max()} groups per class).")
    # Groups of each eligible class, padded to a rectangle with -1.
    per_class = [np.flatnonzero(big & (g.group_class == k)) for k in eligible]
    width = max(len(p) for p in per_class)
    table = np.full((len(eligible), width), -1, np.int64)
    for i, p in enumerate(per_class):
      table[i, :len(p)] = p
    object.__setattr__(self, "_class_groups", table)

  def indices(self, step: int) -> np.ndarray:
    """[C, V, M] item indices of the batch of `step`."""
    c, v, m = self.classes_per_batch, self.groups_per_class, self.items_per_group
    rng = np.random.default_rng([self.seed, step])
    table = self._class_groups
    rows = table[rng.choice(len(table), c, replace=False)]  # [C, width]
    keys = np.where(rows >= 0, rng.random(rows.shape), np.inf)
    groups = np.take_along_axis(rows, np.argsort(keys, axis=1)[:, :v], 1)
    start = self.groups.group_offsets[groups].reshape(-1)  # [C*V]
    size = self.groups.group_sizes[groups].reshape(-1)
    # M distinct members per group: the M smallest of random keys, padding
    # masked out so every member of a group is equally likely.
    keys = rng.random((c * v, size.max()))
    keys[np.arange(size.max())[None, :] >= size[:, None]] = np.inf
    pick = np.argpartition(keys, m - 1, axis=1)[:, :m]
    return (start[:, None] + pick).reshape(c, v, m)


def gather_images(images: np.ndarray, groups: Groups,
                  indices: np.ndarray) -> np.ndarray:
  """Rotated images of the items. indices: [...] -> [..., S, S, 1] float32.

  images: [N, S, S] uint8 (strokes bright). Pixels are scaled to [0, 1].
  """
  flat = indices.reshape(-1)
  imgs = images[groups.item_image[flat]]
  rot = groups.item_rotation[flat]
  for r in (1, 2, 3):
    sel = rot == r
    if sel.any():
      imgs[sel] = np.rot90(imgs[sel], k=r, axes=(1, 2))
  out = images_lib.to_float(imgs)
  return out.reshape(indices.shape + imgs.shape[1:] + (1,))


class ImageTable(NamedTuple):
  """The images a sampler's items are drawn from, as a device holds them.

  pixels: [U, S * S] uint8, the U images the items use (strokes bright);
  item_image: [I] int32, each item's row of pixels; item_rotation: [I]
  int32 in 0..3 (k * 90 degrees, as Groups.item_rotation).
  """
  pixels: np.ndarray
  item_image: np.ndarray
  item_rotation: np.ndarray


def image_table_bytes(images: np.ndarray, groups: Groups) -> int:
  """The bytes image_table(images, groups) takes, without building it."""
  used = len(np.unique(groups.item_image))
  return used * int(np.prod(images.shape[1:])) + 8 * len(groups.item_image)


def image_table(images: np.ndarray, groups: Groups) -> ImageTable:
  """The ImageTable of `groups` over images [N, S, S] uint8: only the images
  some item uses, in index order."""
  used = np.unique(groups.item_image)
  s = images.shape[-1]
  pixels = np.asarray(images[used], np.uint8).reshape(len(used), s * s)
  return ImageTable(pixels,
                    np.searchsorted(used, groups.item_image).astype(np.int32),
                    groups.item_rotation.astype(np.int32))


def rotation_permutations(image_size: int) -> np.ndarray:
  """[4, S * S] int32: row k lists, for each pixel of an image rotated by
  np.rot90(k), the flat pixel of the upright image it comes from."""
  flat = np.arange(image_size * image_size).reshape(image_size, image_size)
  return np.stack([np.rot90(flat, k).reshape(-1) for k in range(4)]).astype(
      np.int32)


def gather_images_on_device(table: ImageTable,
                            indices: jax.Array) -> jax.Array:
  """gather_images in jnp, on whatever device holds `table` (traceable).

  indices: [...] item ids -> [..., S, S, 1] float32, bit for bit the values
  gather_images gives (rotations are pixel permutations; uint8 -> float32 is
  images.to_float's multiply by float32(1 / 255)).
  """
  s = int(round(table.pixels.shape[-1] ** 0.5))
  flat = indices.reshape(-1)
  pixels = table.pixels[table.item_image[flat]]  # [B, S * S]
  perm = jnp.asarray(rotation_permutations(s))[table.item_rotation[flat]]
  rotated = jnp.take_along_axis(pixels, perm, axis=1)
  out = rotated.astype(jnp.float32) * np.float32(1.0 / 255.0)
  return out.reshape(indices.shape + (s, s, 1))


def shard(batch: np.ndarray, num_devices: int, batch_dims: int = 3
          ) -> np.ndarray:
  """Split the flattened batch evenly across devices, in row-major order.

  batch: [C, V, M, ...] (the first `batch_dims` axes are the batch's) ->
  [n, C * V * M / n, ...]: device d holds rows d * C*V*M/n .. of the batch
  flattened class by class, group by group, item by item. When n divides C
  these are exactly classes d * C/n .. (d + 1) * C/n - 1, whole.
  """
  rows = int(np.prod(batch.shape[:batch_dims]))
  if rows % num_devices:
    c, v, m = (tuple(batch.shape[:batch_dims]) + (1, 1, 1))[:3]
    raise BatchShapeError(
        f"The batch's C*V*M = {c}*{v}*{m} = {rows} images "
        f"(config.data.classes_per_batch * groups_per_class * "
        f"items_per_group) are not divisible by the {num_devices} devices.")
  return batch.reshape((num_devices, rows // num_devices) +
                       batch.shape[batch_dims:])
