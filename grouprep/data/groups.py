"""Groups and splits as pure functions of the labels.

An *item* is one image under one rotation (k * 90 degrees). A *group* is a set
of items of one class; the groups of a class are disjoint. Default (the note's
experiment): class = alphabet, group = rotation, so each alphabet has 4 groups.
"""
import dataclasses
from typing import Sequence

import numpy as np

from grouprep import errors

LABEL_KEYS = ("alphabet", "character", "image")  # image: no labels at all
GROUP_KEYS = ("rotation", "random", "charset")


@dataclasses.dataclass(frozen=True)
class Groups:
  """I items in G groups, stored group-contiguously (CSR).

  item_image: [I] index into the split's images; item_rotation: [I] in 0..3;
  group_offsets: [G + 1], group g holds items group_offsets[g]:group_offsets[g+1];
  group_class: [G] class id of each group; group_key: [G] the rotation for
  rotation groups, the partition index for random groups.
  """
  item_image: np.ndarray
  item_rotation: np.ndarray
  group_offsets: np.ndarray
  group_class: np.ndarray
  group_key: np.ndarray

  @property
  def num_groups(self) -> int:
    return len(self.group_class)

  @property
  def num_classes(self) -> int:
    """1 + the largest class id (class ids index a classifier's rows)."""
    return int(self.group_class.max()) + 1

  @property
  def group_sizes(self) -> np.ndarray:
    return np.diff(self.group_offsets)

  @property
  def item_group(self) -> np.ndarray:
    return np.repeat(np.arange(self.num_groups), self.group_sizes)

  def members(self, g: int) -> np.ndarray:
    return np.arange(self.group_offsets[g], self.group_offsets[g + 1])


def heldout_character_mask(alphabet: np.ndarray, character: np.ndarray,
                           fraction: float, seed: int) -> np.ndarray:
  """[N] bool: the images of a seeded `fraction` of each alphabet's characters.

  Per alphabet, round(fraction * #characters) characters are held out (at least
  one when fraction > 0), chosen by a generator seeded with (seed, alphabet).
  """
  held = np.zeros(len(character), bool)
  if fraction <= 0:
    return held
  for a in np.unique(alphabet):
    chars = np.unique(character[alphabet == a])
    n = max(1, int(round(fraction * len(chars))))
    rng = np.random.default_rng([seed, int(a)])
    held |= np.isin(character, rng.choice(chars, n, replace=False))
  return held


def heldout_label_mask(labels: np.ndarray, fraction: float,
                       seed: int) -> np.ndarray:
  """[N] bool: the items of a seeded `fraction` of the labels (a folder or
  CSV dataset's evaluation split). round(fraction * L) of the L labels, at
  least 2 (the note's metric compares labels) and at most L - 1, chosen by a
  generator seeded with `seed`; none when fraction <= 0."""
  names = np.unique(labels)
  if fraction <= 0 or len(names) < 2:
    return np.zeros(len(labels), bool)
  n = min(max(2, int(round(fraction * len(names)))), len(names) - 1)
  held = np.random.default_rng(seed).choice(names, n, replace=False)
  return np.isin(labels, held)


def given_groups(labels: np.ndarray, group_ids: np.ndarray,
                 images: np.ndarray) -> Groups:
  """Groups a dataset states itself (a folder's LABEL/GROUP, a CSV's group
  column): group (class, g) = the images of `images` whose group id is g.
  labels / group_ids: [N] per image; images: [n] the image indices to use.
  Items are upright (rotation 0); group_key is the dataset's group id."""
  images = np.asarray(images)
  return _contiguous(images, np.zeros(len(images), np.int32),
                     np.asarray(labels)[images], np.asarray(group_ids)[images])


def character_sets(labels: np.ndarray, characters: np.ndarray,
                   images: np.ndarray, sets_per_class: int,
                   seed) -> np.ndarray:
  """[n] the character set (0..sets_per_class-1) of each of `images`.

  The characters of each class among `images` are shuffled by a generator
  seeded with (*seed, class) (seed: an int or a sequence of ints) and cut into `sets_per_class` disjoint sets of
  near-equal size (np.array_split), so two sets of a class share no character
  and so no drawing.
  """
  images = np.asarray(images)
  out = np.zeros(len(images), np.int32)
  for c in np.unique(labels[images]):
    rows = np.flatnonzero(labels[images] == c)
    chars = np.unique(characters[images[rows]])
    if len(chars) < sets_per_class:
      raise errors.ConfigError(
          f"class {int(c)} has {len(chars)} character(s), fewer than the "
          f"{sets_per_class} disjoint character sets asked for "
          f"(data.charsets_per_alphabet / "
          f"evals.disjoint_characters.charsets_per_alphabet).")
    perm = np.random.default_rng([*np.atleast_1d(seed), int(c)]).permutation(
        chars)
    for j, part in enumerate(np.array_split(perm, sets_per_class)):
      out[rows[np.isin(characters[images[rows]], part)]] = j
  return out


def _contiguous(item_image, item_rotation, item_class, item_key) -> Groups:
  """Groups = the distinct (class, key) pairs, items sorted by (class, key,
  rotation, image)."""
  order = np.lexsort((item_image, item_rotation, item_key, item_class))
  cls, key = item_class[order], item_key[order]
  new = np.r_[True, (cls[1:] != cls[:-1]) | (key[1:] != key[:-1])]
  starts = np.flatnonzero(new)
  return Groups(item_image=item_image[order],
                item_rotation=item_rotation[order],
                group_offsets=np.r_[starts, len(order)].astype(np.int64),
                group_class=cls[starts].astype(np.int32),
                group_key=key[starts].astype(np.int32))


def build_groups(labels: np.ndarray, images: np.ndarray, *,
                 group_key: str = "rotation",
                 rotations: Sequence[int] = (0, 1, 2, 3),
                 group_size: int = 0, seed: int = 0,
                 characters: np.ndarray = None,
                 charsets: int = 0) -> Groups:
  """Groups of the items (images[i], r) for r in `rotations`.

  labels: [N] class of each image; images: [n] the image indices to use.
  group_key="rotation": group (class, r) = every item of that class rotated by r.
  group_key="random": the items of each class are shuffled by a generator
  seeded with (*seed, class) (seed: an int or a sequence of ints) and cut into disjoint groups of `group_size`
  (a remainder smaller than group_size is dropped).
  group_key="charset": the characters of each class are cut into `charsets`
  disjoint sets (character_sets, seeded); group (class, j) = the items of the
  characters of set j (characters: [N] character of each image). Groups of
  one class share no character and no drawing.
  """
  images = np.asarray(images)
  rotations = np.asarray(rotations, np.int32)
  item_image = np.tile(images, len(rotations))
  item_rotation = np.repeat(rotations, len(images))
  item_class = labels[item_image]
  if group_key == "rotation":
    return _contiguous(item_image, item_rotation, item_class, item_rotation)
  if group_key == "charset":
    if characters is None or charsets < 1:
      raise ValueError("group_key='charset' needs the characters and "
                       "charsets >= 1.")
    sets = character_sets(labels, characters, images, charsets, seed)
    return _contiguous(item_image, item_rotation, item_class,
                       np.tile(sets, len(rotations)))
  if group_key == "random":
    if group_size < 1:
      raise ValueError("group_key='random' needs data.group_size >= 1.")
    parts_image, parts_rot, offsets, classes, keys = [], [], [0], [], []
    for c in np.unique(item_class):
      idx = np.flatnonzero(item_class == c)
      idx = idx[np.random.default_rng([seed, int(c)]).permutation(len(idx))]
      for j in range(len(idx) // group_size):
        part = np.sort(idx[j * group_size:(j + 1) * group_size])
        parts_image.append(item_image[part])
        parts_rot.append(item_rotation[part])
        offsets.append(offsets[-1] + group_size)
        classes.append(c)
        keys.append(j)
    return Groups(item_image=np.concatenate(parts_image),
                  item_rotation=np.concatenate(parts_rot),
                  group_offsets=np.array(offsets, np.int64),
                  group_class=np.array(classes, np.int32),
                  group_key=np.array(keys, np.int32))
  raise ValueError(f"config.data.group_key={group_key!r} is not one of "
                   f"{GROUP_KEYS}.")
