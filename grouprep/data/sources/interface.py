"""What a data source gives training and evaluation (no implementations).

A source is built from config.data and the seed, reads nothing until asked,
and gives:
  train_data()        the training images and their groups (TrainData);
  eval_split(name)    one evaluation split (SplitData), for each name of
                      eval_splits, and for validation_split (read by the
                      evaluation during training; None: the source has none);
  summary()           what a checkpoint records of its training data;
  offers              what it can give beyond images in groups (CAPABILITIES):
                      evaluators declare what they need of these and are
                      skipped, with skip_reason's words, where it is lacking.
Each SplitSpec states, before any data are read, what one of its evaluation
splits offers. An N-item split holds images [N, S, S] uint8 (strokes bright)
and Groups of its items (data/groups.py); G groups of L labels.
"""
import dataclasses
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from grouprep.data import groups as groups_lib
from grouprep.errors import ConfigError

# What a source (offers) or one of its splits (SplitSpec.offers) can give,
# and what it is.
CAPABILITIES = {
    "group_labels": "several groups per label (the note's metric, "
                    "retrieval, item -> group, Theorem 1's bound)",
    "classes": "a class for every item it classifies (few-shot "
               "classification)",
    "characters": "each drawing's alphabet and character, the upright "
                  "drawings among its items (the disjoint-character "
                  "protocol)",
    "train_characters": "the training characters with their alphabets "
                        "(Theorem 1's margin on training groups)",
    "lake_runs": "Lake et al.'s one-shot runs as data the encoder never saw",
    "strokes": "images read under a stroke convention (data.strokes)",
}


@dataclasses.dataclass(frozen=True)
class SplitSpec:
  """An evaluation split as known before any data are read. grouping: how
  its groups are made ("alphabet_rotation": an alphabet's rotated copies;
  "class": one group per class; "given": the dataset's own groups); offers:
  the CAPABILITIES its data give."""
  name: str
  description: str
  grouping: str
  offers: Tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class TrainData:
  """The training images [N, S, S] uint8 and their groups; class_kind names
  what a class is ("alphabets", "characters", "labels", ...) and
  class_names each class's name (None: shown by id), for messages."""
  images: np.ndarray
  groups: groups_lib.Groups
  class_kind: str
  class_names: Optional[Sequence[str]] = None


@dataclasses.dataclass(frozen=True)
class SplitData:
  """One evaluation split's data.

  images: [N, S, S] uint8 the split's group items index; groups: its G
  groups, group_class indexing label_names; class_items: [P] positions of
  the items it classifies (group order) and item_class: [P] their classes
  (offers "classes": an Omniglot character's upright drawings, a Vinyals
  class, a folder's label); alphabet, character: [N] per image (offers
  "characters"; else None).
  """
  spec: SplitSpec
  images: np.ndarray
  groups: groups_lib.Groups
  label_names: Sequence[str]
  class_items: np.ndarray
  item_class: np.ndarray
  alphabet: Optional[np.ndarray] = None
  character: Optional[np.ndarray] = None

  @property
  def name(self) -> str:
    return self.spec.name

  @property
  def grouping(self) -> str:
    return self.spec.grouping

  @property
  def offers(self) -> Tuple[str, ...]:
    return self.spec.offers

  def sizes(self) -> Dict[str, int]:
    """What metrics.json records of the split's size."""
    groups, items = self.groups, len(self.groups.item_image)
    if self.grouping == "class":
      return {"num_classes": int(groups.num_groups), "num_items": int(items)}
    label = "num_labels" if self.grouping == "given" else "num_alphabets"
    return {"num_groups": int(groups.num_groups), "num_items": int(items),
            label: int(len(np.unique(groups.group_class)))}


class Source:
  """A dataset grouprep trains and evaluates on; subclasses fill in the
  class attributes and the methods that raise NotImplementedError.

  data_config: config.data; seed: config.seed (held-out labels and random
  groups are seeded by it). Reading data is deferred to the methods.
  """
  name = ""  # set by the registry
  offers: Tuple[str, ...] = ()
  splits: Dict[str, SplitSpec] = {}
  eval_splits: Tuple[str, ...] = ()  # evaluated at the end, in this order
  validation_split: Optional[str] = None
  # Why there is no validation split, for the error of config.eval.every.
  no_validation_split = "it has evaluation splits only"
  plotted: str = ""  # the split the report's plots show

  def __init__(self, data_config, seed: int):
    self.config, self.seed = data_config, seed
    self._loaded = {}

  def once(self, key, load):
    """load() the first time key is asked for, then the same object."""
    if key not in self._loaded:
      self._loaded[key] = load()
    return self._loaded[key]

  # ---- Before any data: the config fields this source reads. ----
  def validate(self) -> None:
    """Raises errors.ConfigError naming a data field this source cannot
    use; reads no data."""

  @property
  def described(self) -> str:
    """How a message names this source."""
    return f"data.source={self.name!r}"

  def keep(self, field: str, allowed, why: str) -> None:
    """A ConfigError unless config.data.<field> is `allowed` (one value, or
    a tuple whose first is the default): the only value(s) this source reads
    the field at; `why` says what the source does instead."""
    allowed = allowed if isinstance(allowed, tuple) else (allowed,)
    value = self.config[field]
    if value not in allowed:
      raise ConfigError(
          f"config.data.{field}={value!r} does not apply to {self.described} "
          f"({why}); leave it at {allowed[0]!r}.")

  def choice(self, field: str, allowed) -> None:
    """A ConfigError unless config.data.<field> is one of `allowed`."""
    value = self.config[field]
    if value not in allowed:
      raise ConfigError(f"config.data.{field}={value!r} is not one of "
                        f"{sorted(allowed)}.")

  # ---- Data. ----
  def train_data(self, groups_per_class: int = 1, why: str = "") -> TrainData:
    """The training data. groups_per_class: the fewest groups the loss
    needs of a class (why: what needs them, for the error); a source that
    cannot leave such classes to the sampler (which drops them, with a
    note) raises errors.DataError."""
    raise NotImplementedError

  def eval_split(self, name: str, max_characters: int = 0) -> SplitData:
    """The evaluation split `name` (one of splits); max_characters: a
    seeded subset of this many characters where the split has characters
    (0: all)."""
    raise NotImplementedError

  def summary(self) -> Dict:
    """What a checkpoint records of the training data (its metadata), so
    that evaluating or resuming can tell the data changed: {"source": name}
    and, for named labels, "labels" (all of them) and "heldout_labels"
    (those held out for evaluation), which checkpoints.check_dataset
    compares and grouprep.embed's metric splits its groups by."""
    return {"source": self.config.get("source", self.name)}

  def trained_on(self) -> Optional[Dict]:
    """metrics.json's notes on what evaluation leaves out as trained on, or
    None."""
    return None

  def skip_reason(self, missing: Sequence[str]) -> str:
    """Why an evaluator that needs the capabilities `missing` is skipped."""
    return (f"needs {', '.join(CAPABILITIES.get(m, m) for m in missing)}, "
            f"which data.source={self.name!r} does not offer")

  # ---- Capabilities (where offered). ----
  def train_characters(self) -> Tuple[np.ndarray, groups_lib.Groups, str]:
    """"train_characters": (images, groups of the training characters with
    alphabet labels, what the groups are)."""
    raise NotImplementedError

  # "lake_runs": the runs a Vinyals-trained encoder saw characters of.
  lake_runs_excluded: Tuple[str, ...] = ()
