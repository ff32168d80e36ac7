"""Omniglot through TFDS, the note's experiment: data.source="omniglot" with
data.train_split="background".

Training: the 30 background alphabets less a seeded data.heldout_fraction of
each alphabet's characters, grouped by data.label_key / data.group_key (the
note: class = alphabet, group = rotation). Evaluation: the 20 evaluation
alphabets (TFDS test) and the held-out characters, each alphabet's rotated
copies its groups. The Vinyals split of the same images is vinyals.py.
"""
from typing import Tuple

import numpy as np

from grouprep.data import groups as groups_lib
from grouprep.data import omniglot as tfds_omniglot
from grouprep.data.sources import interface
from grouprep.errors import ConfigError

# Drawings per Omniglot character (every character has 20).
DRAWINGS_PER_CHARACTER = 20
# data.train_split: the note's background alphabets, or the Vinyals split
# (vinyals.py).
TRAIN_SPLITS = ("background", "vinyals_train", "vinyals_trainval")

ALPHABET_SPLIT_OFFERS = ("group_labels", "classes", "characters")
SPLITS = {s.name: s for s in (
    interface.SplitSpec(
        "unseen_alphabets", "the 20 evaluation alphabets (TFDS test), less "
        "any the training split holds characters of", "alphabet_rotation",
        ALPHABET_SPLIT_OFFERS),
    interface.SplitSpec(
        "heldout_characters", "the held-out characters of the background "
        "alphabets (TFDS train)", "alphabet_rotation", ALPHABET_SPLIT_OFFERS),
)}


def load(data_config, split: str) -> tfds_omniglot.OmniglotSplit:
  """One TFDS split, decoded once to the cache (tests route this to fake
  data)."""
  d = data_config
  return tfds_omniglot.load_split(split, image_size=d.image_size,
                                  data_dir=d.data_dir, cache_dir=d.cache_dir,
                                  download=d.download)


def subsample_characters(character: np.ndarray, images: np.ndarray,
                         max_characters: int, seed: int) -> np.ndarray:
  """The images of a seeded subset of max_characters characters (0: all)."""
  chars = np.unique(character[images])
  if not 0 < max_characters < len(chars):
    return images
  keep = np.random.default_rng([seed, 1]).choice(chars, max_characters,
                                                 replace=False)
  return images[np.isin(character[images], keep)]


def alphabet_split(spec: interface.SplitSpec,
                   data: tfds_omniglot.OmniglotSplit,
                   images: np.ndarray) -> interface.SplitData:
  """An evaluation split of alphabet x rotation groups of `images`; its
  classes are the characters of the upright drawings."""
  groups = groups_lib.build_groups(data.alphabet, images,
                                   group_key="rotation")
  upright = np.flatnonzero(groups.item_rotation == 0)
  return interface.SplitData(
      spec, data.images, groups, data.alphabet_names, upright,
      data.character[groups.item_image[upright]], data.alphabet,
      data.character)


class OmniglotSource(interface.Source):
  """The note's experiment on TFDS Omniglot (module docstring)."""
  offers = ("train_characters", "lake_runs")
  splits = SPLITS
  eval_splits = ("unseen_alphabets", "heldout_characters")
  validation_split = "heldout_characters"
  plotted = "unseen_alphabets"

  def load(self, split: str) -> tfds_omniglot.OmniglotSplit:
    return self.once(split, lambda: load(self.config, split))

  def validate(self) -> None:
    d = self.config
    if d.train_split == "labels":
      raise ConfigError(
          "config.data.train_split='labels' is the split of a folder or CSV "
          "dataset: set config.data.source='folder' or 'csv' (and "
          "config.data.path) instead.")
    self.choice("train_split", TRAIN_SPLITS)
    self.choice("label_key", groups_lib.LABEL_KEYS)
    self.choice("group_key", groups_lib.GROUP_KEYS)
    largest, why = self.largest_group()
    if largest and d.items_per_group > largest:
      raise ConfigError(
          f"config.data.items_per_group={d.items_per_group} is larger "
          f"than the training groups can be: {largest} items ({why}).")

  def largest_group(self):
    """(size, why): an upper bound on the training groups' size that the
    config alone fixes, or (None, "") when only the data can tell (the
    sampler checks then, naming the same field)."""
    d = self.config
    if d.group_key == "random":
      return d.group_size, (f"data.group_key='random' with data.group_size="
                            f"{d.group_size}")
    if d.label_key == "character":
      return DRAWINGS_PER_CHARACTER, (
          f"a character has {DRAWINGS_PER_CHARACTER} drawings per rotation")
    return None, ""

  def heldout_mask(self, data) -> np.ndarray:
    """[N] bool: the images of the held-out characters of `data`."""
    return groups_lib.heldout_character_mask(
        data.alphabet, data.character, self.config.heldout_fraction,
        self.seed)

  def make_groups(self, data, images: np.ndarray) -> groups_lib.Groups:
    """The training groups of `images` by data.label_key / group_key."""
    d = self.config
    labels = (np.arange(len(data), dtype=np.int32) if d.label_key == "image"
              else {"alphabet": data.alphabet,
                    "character": data.character}[d.label_key])
    # Character-set groups are the disjoint-character protocol's: upright.
    rotations = (0,) if d.group_key == "charset" else (0, 1, 2, 3)
    return groups_lib.build_groups(
        labels, images, group_key=d.group_key, rotations=rotations,
        group_size=d.group_size, seed=self.seed, characters=data.character,
        charsets=d.charsets_per_alphabet)

  def class_names(self, data):
    """(what a class is, the names of the classes or None) for messages."""
    kind = self.config.label_key
    if kind == "alphabet":
      return "alphabets", data.alphabet_names
    return ("characters" if kind == "character"
            else "images (label_key='image')"), None

  def train_data(self, groups_per_class: int = 1,
                 why: str = "") -> interface.TrainData:
    del groups_per_class, why  # classes of too few groups: the sampler's note
    data = self.load("train")
    groups = self.make_groups(data, np.flatnonzero(~self.heldout_mask(data)))
    return interface.TrainData(data.images, groups, *self.class_names(data))

  def eval_images(self, name: str, data) -> np.ndarray:
    """The images of evaluation split `name` in data (its TFDS split)."""
    if name == "unseen_alphabets":
      return np.arange(len(data))
    return np.flatnonzero(self.heldout_mask(data))

  def eval_split(self, name: str,
                 max_characters: int = 0) -> interface.SplitData:
    data = self.load("test" if name == "unseen_alphabets" else "train")
    images = subsample_characters(data.character,
                                  self.eval_images(name, data),
                                  max_characters, self.seed)
    return alphabet_split(self.splits[name], data, images)

  def train_characters(self) -> Tuple[np.ndarray, groups_lib.Groups, str]:
    """The training characters with alphabet labels: the training groups
    when their classes are alphabets, else the note's alphabet x rotation
    groups of the training characters."""
    data = self.load("train")
    images = np.flatnonzero(~self.heldout_mask(data))
    if self.config.label_key == "alphabet":
      return data.images, self.make_groups(data, images), "train_groups"
    return (data.images, groups_lib.build_groups(data.alphabet, images),
            "train_characters_rotation_groups")
