"""Every split grouprep trains or evaluates on, as data: one table that
the data pipeline, validation, evaluation and the report read.

A training split names what the sampler draws from, which splits its encoder
is evaluated on (none it saw), and which one the evaluation during training
reads (a validation split where recipes are compared; for a recipe retrained
on vinyals_trainval, which holds val, the test split, read after the choice). An evaluation
split names the TFDS split it reads, which characters, how they are grouped,
and which evaluators apply to it. A folder or CSV dataset (config.data.source)
trains on the split "labels" and is evaluated on "heldout_labels".
"""
import dataclasses
from typing import Tuple


@dataclasses.dataclass(frozen=True)
class TrainSplit:
  name: str
  description: str
  eval_splits: Tuple[str, ...]  # evaluated at the end, in this order
  # What the evaluation during training (config.eval.every) reads: the
  # validation split where recipes are compared.
  during_training: str
  vinyals_file: str = ""  # the Vinyals split file it trains on, if any
  plotted: str = "unseen_alphabets"  # the split the report's plots show
  # Evaluators in config.evals that do not apply to this training data (and
  # are skipped, said in metrics.json): those that need Omniglot.
  skips: Tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class EvalSplit:
  name: str
  description: str
  # What it reads: "tfds_test" (every evaluation alphabet the training
  # split holds no character of), "tfds_train_heldout" (the held-out
  # characters of the background alphabets), "vinyals" (vinyals_file),
  # "heldout_labels" (the held-out labels of a folder or CSV dataset).
  source: str
  grouping: str  # "alphabet_rotation" | "vinyals_class" | "given"
  # The per-split evaluators that apply: a Vinyals split has one group per
  # (character, rotation) class, so only few-shot classification applies.
  evaluators: Tuple[str, ...]
  vinyals_file: str = ""


ALL_SPLIT_EVALUATORS = ("distance", "retrieval", "item_to_group", "theorem1",
                        "disjoint_characters", "fewshot")
# What a dataset of labels and groups alone supports: Theorem 1 measures its
# margin on Omniglot's training characters, the disjoint-character protocol
# cuts alphabets into characters, Lake's runs are Omniglot drawings.
LABEL_AGNOSTIC_EVALUATORS = ("distance", "retrieval", "item_to_group",
                             "fewshot")
OMNIGLOT_ONLY_EVALUATORS = ("theorem1", "disjoint_characters", "lake")
# config.data.source: where the images come from (TFDS's Omniglot, or a
# folder or CSV dataset read by data/folder.py). Defined here only.
SOURCES = ("omniglot", "folder", "csv")

TRAIN_SPLITS = {s.name: s for s in (
    TrainSplit("background", "the 30 background alphabets less the held-out "
               "characters (the note's experiment)",
               eval_splits=("unseen_alphabets", "heldout_characters"),
               during_training="heldout_characters"),
    TrainSplit("vinyals_train", "the Vinyals split's train characters, "
               "rotations as classes", vinyals_file="train",
               eval_splits=("unseen_alphabets", "vinyals_val", "vinyals_test"),
               during_training="vinyals_val"),
    # Retrained on trainval once the recipe was chosen on val: its curve is
    # logged on test, read after the choice, nothing selected on it.
    TrainSplit("vinyals_trainval", "the Vinyals split's train and val "
               "characters", vinyals_file="trainval",
               eval_splits=("unseen_alphabets", "vinyals_test"),
               during_training="vinyals_test"),
    # No validation split: validation.py refuses config.eval.every for it,
    # so its during_training split is never read.
    TrainSplit("labels", "a folder or CSV dataset's labels less the "
               "held-out ones (data.heldout_label_fraction)",
               eval_splits=("heldout_labels",),
               during_training="heldout_labels", plotted="heldout_labels",
               skips=OMNIGLOT_ONLY_EVALUATORS),
)}

EVAL_SPLITS = {s.name: s for s in (
    EvalSplit("unseen_alphabets", "the 20 evaluation alphabets (TFDS test), "
              "less any the training split holds characters of",
              source="tfds_test", grouping="alphabet_rotation",
              evaluators=ALL_SPLIT_EVALUATORS),
    EvalSplit("heldout_characters", "the held-out characters of the "
              "background alphabets (TFDS train)",
              source="tfds_train_heldout", grouping="alphabet_rotation",
              evaluators=ALL_SPLIT_EVALUATORS),
    EvalSplit("vinyals_val", "the Vinyals split's val classes", source="vinyals",
              grouping="vinyals_class", evaluators=("fewshot",),
              vinyals_file="val"),
    EvalSplit("vinyals_test", "the Vinyals split's test classes",
              source="vinyals", grouping="vinyals_class", evaluators=("fewshot",),
              vinyals_file="test"),
    EvalSplit("heldout_labels", "the held-out labels of a folder or CSV "
              "dataset, grouped as the dataset groups them",
              source="heldout_labels", grouping="given",
              evaluators=LABEL_AGNOSTIC_EVALUATORS),
)}


# The split the report's embedding and distance plots show.
PLOTTED = "unseen_alphabets"


def trains_on_vinyals(name: str) -> bool:
  return bool(TRAIN_SPLITS[name].vinyals_file)


def train_split_name(data_config) -> str:
  """The training split of config.data: data.train_split on Omniglot,
  "labels" for a folder or CSV dataset (data.source)."""
  if data_config.get("source", "omniglot") != "omniglot":
    return "labels"
  return data_config.train_split


def train_split_of(config) -> TrainSplit:
  return TRAIN_SPLITS[train_split_name(config.data)]
