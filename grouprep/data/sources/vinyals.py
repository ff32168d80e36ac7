"""Omniglot read through the Vinyals et al. / Prototypical Networks split:
data.source="omniglot" with data.train_split="vinyals_train" or
"vinyals_trainval" (data/vinyals.py reads the lists).

Training: the split's (character, rotation) classes over all 50 alphabets,
each cut into groups of data.group_size drawings. Evaluation: the evaluation
alphabets it holds no character of, and the split's val / test classes, one
group per class. A recipe is chosen on val (the evaluation during training
reads it); retrained on trainval, which holds val, its curve is logged on
test, read after the choice.
"""
import os
from typing import Dict, List, Tuple

import numpy as np

from grouprep.data import groups as groups_lib
from grouprep.data import lake
from grouprep.data import vinyals as vinyals_lists
from grouprep.data.sources import interface
from grouprep.data.sources import omniglot
from grouprep.errors import ConfigError

# data.train_split -> (the list it trains on, its evaluation splits, the
# split the evaluation during training reads). A run on vinyals_train chooses
# a recipe: it reads val alone, during training and at the end; the test
# classes and the unseen alphabets are read by the run on trainval, once.
TRAIN_SPLITS = {
    "vinyals_train": ("train", ("vinyals_val",), "vinyals_val"),
    "vinyals_trainval": ("trainval", ("unseen_alphabets", "vinyals_test"),
                         "vinyals_test"),
}
SPLITS = {s.name: s for s in (
    omniglot.SPLITS["unseen_alphabets"],
    interface.SplitSpec("vinyals_val", "the Vinyals split's val classes",
                        "class", ("classes",)),
    interface.SplitSpec("vinyals_test", "the Vinyals split's test classes",
                        "class", ("classes",)),
)}


def load_all(data_config):
  """Both TFDS splits as one (the Vinyals split spans all 50 alphabets)."""
  return vinyals_lists.combine(omniglot.load(data_config, "train"),
                               omniglot.load(data_config, "test"))


def class_split(spec: interface.SplitSpec, data,
                groups: groups_lib.Groups) -> interface.SplitData:
  """A split whose groups are its classes; every item is classified."""
  return interface.SplitData(
      spec, data.images, groups,
      tuple(str(c) for c in range(groups.num_groups)),
      np.arange(len(groups.item_image)), groups.item_group)


class VinyalsSource(omniglot.OmniglotSource):
  """Omniglot through the Vinyals split (module docstring)."""
  splits = SPLITS
  lake_runs_excluded = lake.RUNS_TRAINED_BY_VINYALS

  def __init__(self, data_config, seed: int):
    super().__init__(data_config, seed)
    self.list_file, self.eval_splits, self.validation_split = \
        TRAIN_SPLITS.get(data_config.train_split, TRAIN_SPLITS["vinyals_train"])
    if self.eval_splits == (self.validation_split,):  # a recipe run
      # Lake's runs draw on the evaluation alphabets: read with test, once.
      self.offers = tuple(o for o in self.offers if o != "lake_runs")

  described = "the Vinyals split"

  def validate(self) -> None:
    self.choice("train_split", TRAIN_SPLITS)
    d = self.config
    if d.vinyals_dir and not os.path.exists(d.vinyals_dir):
      raise ConfigError(f"config.data.vinyals_dir={d.vinyals_dir!r} does "
                        "not exist.")
    why = ("its classes are its (character, rotation) pairs, a group "
           "data.group_size drawings of one")
    self.keep("label_key", "alphabet", why)
    self.keep("group_key", "rotation", why)
    super().validate()

  def largest_group(self):
    d = self.config
    return (d.group_size or omniglot.DRAWINGS_PER_CHARACTER,
            f"the Vinyals split's groups hold data.group_size={d.group_size} "
            f"drawings (0: all {omniglot.DRAWINGS_PER_CHARACTER})")

  def entries(self, name: str) -> List[vinyals_lists.Entry]:
    """The (alphabet, character, rotation) classes of list `name`."""
    d = self.config
    return self.once(("list", name), lambda: vinyals_lists.read_split(
        name, d.vinyals_dir, d.data_dir))

  def load_all(self):
    return self.once("all", lambda: load_all(self.config))

  def class_names(self, data):
    return "classes (character, rotation)", None

  def train_data(self, groups_per_class: int = 1,
                 why: str = "") -> interface.TrainData:
    del groups_per_class, why
    data = self.load_all()
    groups = vinyals_lists.class_groups(data, self.entries(self.list_file),
                                        self.config.group_size, self.seed)
    return interface.TrainData(data.images, groups, *self.class_names(data))

  def trained_alphabets(self, data) -> np.ndarray:
    """Alphabet ids any of whose characters the training list holds:
    trainval spans 8 of the 20 evaluation alphabets."""
    names = {e[0] for e in self.entries(self.list_file)}
    return np.array([i for i, n in enumerate(data.alphabet_names)
                     if n in names], np.int64)

  def eval_images(self, name: str, data) -> np.ndarray:
    return np.flatnonzero(~np.isin(data.alphabet,
                                   self.trained_alphabets(data)))

  def eval_split(self, name: str,
                 max_characters: int = 0) -> interface.SplitData:
    if name == "unseen_alphabets":
      return super().eval_split(name, max_characters)
    data = self.load_all()
    return class_split(self.splits[name], data, vinyals_lists.class_groups(
        data, self.entries(name[len("vinyals_"):])))

  def train_characters(self) -> Tuple[np.ndarray, groups_lib.Groups, str]:
    data = self.load("train")
    images = np.flatnonzero(~self.heldout_mask(data))
    return (data.images, groups_lib.build_groups(data.alphabet, images),
            "train_characters_rotation_groups")

  def trained_on(self) -> Dict:
    data = self.load("test")
    present = set(data.alphabet.tolist())
    notes = {
        "alphabets_left_out_of_unseen_alphabets": [
            data.alphabet_names[a] for a in self.trained_alphabets(data)
            if a in present],
        "lake_runs_left_out": list(self.lake_runs_excluded),
        "heldout_characters": "not evaluated: the Vinyals split trains on "
                              "every background character"}
    if "vinyals_val" not in self.eval_splits:
      notes["vinyals_val"] = "not evaluated: part of trainval"
    if "vinyals_test" not in self.eval_splits:
      notes["vinyals_test"] = ("not read: a run on vinyals_train chooses a "
                               "recipe on val; test is read once, by the run "
                               "on trainval")
    return notes
