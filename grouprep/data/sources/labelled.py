"""Your own labelled, grouped images: data.source="folder" (data.path holds
LABEL/GROUP/IMAGE) or "csv" (data.path is a file of path,label,group rows),
read by data/folder.py.

Training: the images of the labels less a seeded data.heldout_label_fraction
of them, in the dataset's own groups; evaluation: the held-out labels, in
their groups. The held-out labels are its test split, so it has no
validation split. What needs Omniglot (Theorem 1's margin on training
characters, the disjoint-character protocol, Lake's runs) is skipped.
"""
import os
from typing import Dict

import numpy as np

from grouprep.data import folder
from grouprep.data import groups as groups_lib
from grouprep.data import images as images_lib
from grouprep.data.sources import interface
from grouprep.errors import ConfigError
from grouprep.errors import DataError

SPLITS = {"heldout_labels": interface.SplitSpec(
    "heldout_labels", "the held-out labels of a folder or CSV dataset, "
    "grouped as the dataset groups them", "given",
    ("group_labels", "classes"))}


class LabelledSource(interface.Source):
  """A folder or CSV dataset (module docstring); read_manifest(path) reads
  its list of images (folder.read_folder or folder.read_csv)."""
  read_manifest = staticmethod(folder.read_folder)
  offers = ("strokes",)
  splits = SPLITS
  eval_splits = ("heldout_labels",)
  validation_split = None
  no_validation_split = ("its held-out labels are its test split, and "
                         "nothing is selected on a test split")
  plotted = "heldout_labels"

  @property
  def where(self) -> str:
    return f"{self.name} dataset {self.config.path}"

  def validate(self) -> None:
    d, name = self.config, self.name
    if not d.path:
      raise ConfigError(
          f"config.data.source={name!r} reads config.data.path (a folder "
          f"LABEL/GROUP/IMAGE, or a CSV file of path,label,group rows); set "
          f"it.")
    if name == "folder" and not os.path.isdir(d.path):
      raise ConfigError(f"config.data.path={d.path!r} is not a folder "
                        f"(data.source='folder' reads PATH/LABEL/GROUP/IMAGE).")
    if name == "csv" and not os.path.isfile(d.path):
      raise ConfigError(f"config.data.path={d.path!r} is not a file "
                        f"(data.source='csv' reads path,label,group rows).")
    self.choice("strokes", images_lib.STROKES)
    self.keep("train_split", "background", "Omniglot's training splits")
    self.keep("label_key", ("alphabet", "image"),
              "a dataset's labels are its LABEL folders or label column "
              "('alphabet', the default), or every image its own class "
              "('image')")
    self.keep("group_key", "rotation",
              "a dataset's groups are its GROUP folders or group column")
    if not 0.0 < d.heldout_label_fraction < 1.0:
      raise ConfigError(
          f"config.data.heldout_label_fraction={d.heldout_label_fraction} "
          f"must be in (0, 1): the held-out labels are the evaluation split "
          f"of data.source={name!r}.")

  def load(self) -> folder.LabelledImages:
    """The dataset, decoded once to disk."""
    d = self.config
    return self.once("data", lambda: folder.load(
        self.read_manifest(d.path), image_size=d.image_size,
        strokes=d.strokes, cache_dir=d.cache_dir))

  def heldout_mask(self, data: folder.LabelledImages) -> np.ndarray:
    """[N] bool: the images of the held-out labels (the evaluation split)."""
    return groups_lib.heldout_label_mask(
        data.label, self.config.heldout_label_fraction, self.seed)

  def check_labels(self, data: folder.LabelledImages, held: np.ndarray,
                   groups_per_class: int = 1, why: str = "") -> None:
    """What the sampler and the note's metric need of the labels, as a
    DataError naming the labels and the fields."""
    d, names, where = self.config, data.label_names, self.where
    groups_of = np.bincount(
        np.unique(np.stack([data.label, data.group]), axis=1)[0],
        minlength=len(names))
    held_labels = np.unique(data.label[held])
    if len(held_labels) < 2:
      raise DataError(
          f"The {where} has {len(names)} label(s); evaluation holds out at "
          f"least 2 of them (data.heldout_label_fraction="
          f"{d.heldout_label_fraction}) and training needs the others: give "
          f"it at least 3 labels.")
    if d.label_key != "image":
      training = len(names) - len(held_labels)
      if training < d.classes_per_batch:
        raise DataError(
            f"The {where} has {len(names)} labels; {len(held_labels)} are "
            f"held out for evaluation (data.heldout_label_fraction="
            f"{d.heldout_label_fraction}), leaving {training} for training, "
            f"fewer than config.data.classes_per_batch={d.classes_per_batch}: "
            f"lower data.classes_per_batch or add labels.")
    if groups_per_class > 1 and d.label_key != "image":
      trained = np.setdiff1d(np.arange(len(names)), held_labels)
      few = [f"{names[k]!r} ({groups_of[k]} group(s))" for k in trained
             if groups_of[k] < groups_per_class]
      if few:
        raise DataError(
            f"In the {where}, label(s) {folder.first_few(few)} have fewer "
            f"than {groups_per_class} groups: {why} (and the note's metric "
            f"compares groups of one label); give each label at least "
            f"{groups_per_class} groups, or remove it.")
    if not (groups_of[held_labels] >= 2).any():
      raise DataError(
          f"In the {where}, every held-out label has a single group, so the "
          f"note's metric has no same-label pair: give the labels at least 2 "
          f"groups.")

  def train_data(self, groups_per_class: int = 1,
                 why: str = "") -> interface.TrainData:
    data = self.load()
    held = self.heldout_mask(data)
    self.check_labels(data, held, groups_per_class, why)
    if self.config.label_key == "image":  # every image its own class
      labels, kind, names = (np.arange(len(data), dtype=np.int32),
                             "images (label_key='image')", None)
    else:
      labels, kind, names = data.label, "labels", data.label_names
    groups = groups_lib.given_groups(labels, data.group,
                                     np.flatnonzero(~held))
    return interface.TrainData(data.images, groups, kind, names)

  def eval_split(self, name: str,
                 max_characters: int = 0) -> interface.SplitData:
    del max_characters  # labels, not characters
    data = self.load()
    held = self.heldout_mask(data)
    self.check_labels(data, held)
    groups = groups_lib.given_groups(data.label, data.group,
                                     np.flatnonzero(held))
    every = np.arange(len(groups.item_image))
    return interface.SplitData(self.splits[name], data.images, groups,
                               data.label_names, every,
                               data.label[groups.item_image])

  def summary(self) -> Dict:
    """The source, and the dataset's labels and which were held out."""
    data = self.load()
    held = np.unique(data.label[self.heldout_mask(data)])
    return {"source": self.name, "path": self.config.path,
            "num_images": len(data), "num_groups": len(data.group_names),
            "labels": list(data.label_names),
            "heldout_labels": [data.label_names[k] for k in held]}

  def skip_reason(self, missing) -> str:
    del missing  # each is Omniglot's
    return f"needs Omniglot; the training data is a {self.name} dataset"


class CsvSource(LabelledSource):
  """A CSV manifest of path,label,group rows."""
  read_manifest = staticmethod(folder.read_csv)
