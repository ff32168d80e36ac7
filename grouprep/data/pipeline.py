"""From a config to the arrays and groups that training and evaluation read."""
from typing import Tuple

import numpy as np

from grouprep.data import groups as groups_lib
from grouprep.data import omniglot
from grouprep.data import sampler as sampler_lib
from grouprep.data import splits
from grouprep.data import vinyals


def load(config, split: str) -> omniglot.OmniglotSplit:
  d = config.data
  return omniglot.load_split(split, image_size=d.image_size,
                             data_dir=d.data_dir, cache_dir=d.cache_dir,
                             download=d.download)


def class_labels(data: omniglot.OmniglotSplit, label_key: str) -> np.ndarray:
  if label_key == "image":  # every image its own class: unsupervised methods
    return np.arange(len(data), dtype=np.int32)
  return {"alphabet": data.alphabet, "character": data.character}[label_key]


def heldout_mask(config, data: omniglot.OmniglotSplit) -> np.ndarray:
  return groups_lib.heldout_character_mask(
      data.alphabet, data.character, config.data.heldout_fraction, config.seed)


def make_groups(config, data, images: np.ndarray) -> groups_lib.Groups:
  d = config.data
  # Character-set groups are the disjoint-character protocol's: upright only.
  rotations = (0,) if d.group_key == "charset" else (0, 1, 2, 3)
  return groups_lib.build_groups(
      class_labels(data, d.label_key), images, group_key=d.group_key,
      rotations=rotations, group_size=d.group_size, seed=config.seed,
      characters=data.character, charsets=d.charsets_per_alphabet)


def trained_alphabets(config, data) -> np.ndarray:
  """Alphabet ids any of whose characters the training split holds: the
  Vinyals split's trainval spans 8 of the 20 evaluation alphabets."""
  spec = splits.TRAIN_SPLITS[config.data.train_split]
  if not spec.vinyals_file:
    return np.arange(len(data.alphabet_names))[:0]
  names = {e[0] for e in vinyals.read_split(config, spec.vinyals_file)}
  return np.array([i for i, n in enumerate(data.alphabet_names) if n in names],
                  np.int64)


def load_all(config) -> omniglot.OmniglotSplit:
  """Both TFDS splits as one (the Vinyals split spans all 50 alphabets)."""
  return vinyals.combine(load(config, "train"), load(config, "test"))


def train_groups(config) -> Tuple[omniglot.OmniglotSplit, groups_lib.Groups]:
  """The training data and its groups, by config.data.train_split:

  "background": the 30 background alphabets minus the held-out characters,
  grouped by config.data.label_key / group_key (the note's experiment);
  "vinyals_train" / "vinyals_trainval": the Vinyals split's (character,
  rotation) classes, each cut into groups of data.group_size drawings.
  """
  spec = splits.TRAIN_SPLITS[config.data.train_split]
  if spec.vinyals_file:
    data = load_all(config)
    entries = vinyals.read_split(config, spec.vinyals_file)
    return data, vinyals.class_groups(data, entries, config.data.group_size,
                                      config.seed)
  data = load(config, "train")
  keep = np.flatnonzero(~heldout_mask(config, data))
  return data, make_groups(config, data, keep)


def train_data(config) -> Tuple[omniglot.OmniglotSplit, sampler_lib.Sampler]:
  """The training data and its C x V x M sampler."""
  data, groups = train_groups(config)
  sampler = sampler_lib.Sampler(
      groups,
      classes_per_batch=config.data.classes_per_batch,
      groups_per_class=config.data.groups_per_class,
      items_per_group=config.data.items_per_group, seed=config.seed)
  return data, sampler


def subsample_characters(character: np.ndarray, images: np.ndarray,
                         max_characters: int, seed: int) -> np.ndarray:
  """The images of a seeded subset of max_characters characters (0: all)."""
  chars = np.unique(character[images])
  if not 0 < max_characters < len(chars):
    return images
  keep = np.random.default_rng([seed, 1]).choice(chars, max_characters,
                                                 replace=False)
  return images[np.isin(character[images], keep)]


def eval_groups(config, which: str):
  """(data, groups) of an evaluation split: alphabet x rotation groups.

  which="unseen_alphabets": the TFDS test split (evaluation alphabets), less
  any alphabet the training split holds characters of (Vinyals-trained
  encoders: 12 of the 20 remain);
  which="heldout_characters": the held-out characters of the train split;
  which="vinyals_test" / "vinyals_val": a Vinyals split, one group per
  (character, rotation) class holding its 20 drawings.
  """
  spec = splits.EVAL_SPLITS[which]
  if spec.source == "vinyals":
    data = load_all(config)
    return data, vinyals.class_groups(
        data, vinyals.read_split(config, spec.vinyals_file))
  if spec.source == "tfds_test":
    data = load(config, "test")
    images = np.flatnonzero(~np.isin(data.alphabet,
                                     trained_alphabets(config, data)))
  else:  # "tfds_train_heldout"
    data = load(config, "train")
    images = np.flatnonzero(heldout_mask(config, data))
  images = subsample_characters(data.character, images,
                                config.eval.max_characters, config.seed)
  return data, groups_lib.build_groups(data.alphabet, images,
                                       group_key="rotation")
