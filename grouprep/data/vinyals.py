"""The Vinyals et al. / Prototypical Networks split of Omniglot.

Classes are (character, rotation) pairs over all 50 alphabets: 1,028 training
characters (4,112 classes), 172 validation (688) and 423 test (1,692), listed
one class per line as `Alphabet/characterNN/rotDDD` in
shared/omniglot/splits/vinyals/{train,val,trainval,test}.txt (Snell et al.,
MIT licence; read from there, never copied into the repository).
"""
import os
from typing import List, Optional, Tuple

import numpy as np

from grouprep.data import groups as groups_lib
from grouprep.data import omniglot
from grouprep.data import shared
from grouprep.data.omniglot import DataError

SPLITS = ("train", "val", "trainval", "test")
SPLIT_DIR = os.path.join("omniglot", "splits", "vinyals")

Entry = Tuple[str, int, int]  # (alphabet name, 0-based character id, rotation 0..3)


def split_file(split: str, vinyals_dir: Optional[str] = None,
               data_dir: Optional[str] = None) -> str:
  """The path of the list of `split`'s classes: in vinyals_dir
  (config.data.vinyals_dir) if set, else shared/ beside the checkout or the
  TFDS data_dir; a clear error when absent."""
  if split not in SPLITS:
    raise DataError(f"Vinyals split {split!r} is not one of {SPLITS}.")
  root = shared.find(SPLIT_DIR, vinyals_dir, "data.vinyals_dir", data_dir)
  if root is None or not os.path.exists(os.path.join(root, f"{split}.txt")):
    raise DataError(
        f"The Vinyals split list {split}.txt was not found (looked for "
        f"shared/{SPLIT_DIR} beside the checkout). Set "
        f"--config.data.vinyals_dir to the folder holding it (the lists are "
        f"in Snell et al.'s prototypical-networks repository, data/omniglot/"
        f"splits/vinyals).")
  return os.path.join(root, f"{split}.txt")


def parse(lines) -> List[Entry]:
  """`Alphabet/character07/rot090` lines -> [(Alphabet, 6, 1)]."""
  out = []
  for line in lines:
    line = line.strip()
    if not line:
      continue
    try:
      alphabet, char, rot = line.split("/")
      entry = (alphabet, int(char[len("character"):]) - 1, int(rot[3:]) // 90)
    except ValueError:
      raise DataError(f"Cannot parse the Vinyals split line {line!r}.") from None
    out.append(entry)
  return out


def read_split(split: str, vinyals_dir: Optional[str] = None,
               data_dir: Optional[str] = None) -> List[Entry]:
  """The classes of list `split` (split_file's)."""
  with open(split_file(split, vinyals_dir, data_dir)) as f:
    return parse(f)


def combine(train: omniglot.OmniglotSplit,
            test: omniglot.OmniglotSplit) -> omniglot.OmniglotSplit:
  """Both TFDS splits (background + evaluation alphabets) as one array."""
  if train.alphabet_names != test.alphabet_names:
    raise DataError("The TFDS train and test splits name alphabets differently.")
  cat = lambda f: np.concatenate([getattr(train, f), getattr(test, f)])
  return omniglot.OmniglotSplit(
      images=cat("images"), alphabet=cat("alphabet"), character=cat("character"),
      alphabet_char_id=cat("alphabet_char_id"),
      alphabet_names=train.alphabet_names)


def class_groups(data: omniglot.OmniglotSplit, entries: List[Entry],
                 group_size: int = 0, seed: int = 0) -> groups_lib.Groups:
  """Groups whose class c is entries[c] = (alphabet, character, rotation).

  group_size=0: one group per class holding all its drawings; otherwise each
  class's drawings are shuffled (seeded by (seed, c)) and cut into disjoint
  groups of group_size (a remainder is dropped). group_key is the rotation.
  """
  name_to_id = {n: i for i, n in enumerate(data.alphabet_names)}
  key = data.alphabet.astype(np.int64) * 1000 + data.alphabet_char_id
  order = np.argsort(key, kind="stable")
  sorted_key = key[order]
  images, rots, offsets, classes = [], [], [0], []
  for c, (alphabet, char, rot) in enumerate(entries):
    if alphabet not in name_to_id:
      raise DataError(f"Vinyals class {alphabet}/{char + 1}: no such alphabet "
                      f"in the TFDS data.")
    k = name_to_id[alphabet] * 1000 + char
    members = order[np.searchsorted(sorted_key, k):
                    np.searchsorted(sorted_key, k, side="right")]
    if not len(members):
      raise DataError(f"Vinyals class {alphabet}/character{char + 1:02d}: no "
                      f"drawings in the TFDS data.")
    size = group_size or len(members)
    members = members[np.random.default_rng([seed, c]).permutation(
        len(members))] if group_size else members
    for j in range(len(members) // size):
      part = np.sort(members[j * size:(j + 1) * size])
      images.append(part)
      rots.append(np.full(len(part), rot, np.int32))
      offsets.append(offsets[-1] + len(part))
      classes.append(c)
  return groups_lib.Groups(
      item_image=np.concatenate(images), item_rotation=np.concatenate(rots),
      group_offsets=np.array(offsets, np.int64),
      group_class=np.array(classes, np.int32),
      group_key=np.array([e[2] for e in entries], np.int32)[classes])
