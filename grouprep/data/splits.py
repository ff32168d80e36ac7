"""Every split grouprep trains or evaluates on, as data: one table that
the data pipeline, validation, evaluation and the report read.

A training split names what the sampler draws from and which splits its
encoder is evaluated on (none it saw), and which of them is its validation
split (read during training; recipes are compared there). An evaluation
split names the TFDS split it reads, which characters, how they are grouped,
and which evaluators apply to it.
"""
import dataclasses
from typing import Tuple


@dataclasses.dataclass(frozen=True)
class TrainSplit:
  name: str
  description: str
  eval_splits: Tuple[str, ...]  # evaluated at the end, in this order
  validation: str  # read during training (config.eval.every)
  vinyals_file: str = ""  # the Vinyals split file it trains on, if any


@dataclasses.dataclass(frozen=True)
class EvalSplit:
  name: str
  description: str
  grouping: str  # "alphabet_rotation" | "vinyals_class"
  # The per-split evaluators that apply: a Vinyals split has one group per
  # (character, rotation) class, so only few-shot classification applies.
  evaluators: Tuple[str, ...]
  vinyals_file: str = ""


ALL_SPLIT_EVALUATORS = ("distance", "retrieval", "item_to_group", "theorem1",
                        "disjoint_characters", "fewshot")

TRAIN_SPLITS = {s.name: s for s in (
    TrainSplit("background", "the 30 background alphabets less the held-out "
               "characters (the note's experiment)",
               eval_splits=("unseen_alphabets", "heldout_characters"),
               validation="heldout_characters"),
    TrainSplit("vinyals_train", "the Vinyals split's train characters, "
               "rotations as classes", vinyals_file="train",
               eval_splits=("unseen_alphabets", "vinyals_val", "vinyals_test"),
               validation="vinyals_val"),
    # Retrained on trainval once the recipe was chosen on val: its curve is
    # logged on test, read after the choice, nothing selected on it.
    TrainSplit("vinyals_trainval", "the Vinyals split's train and val "
               "characters", vinyals_file="trainval",
               eval_splits=("unseen_alphabets", "vinyals_test"),
               validation="vinyals_test"),
)}

EVAL_SPLITS = {s.name: s for s in (
    EvalSplit("unseen_alphabets", "the 20 evaluation alphabets (TFDS test), "
              "less any the training split holds characters of",
              grouping="alphabet_rotation", evaluators=ALL_SPLIT_EVALUATORS),
    EvalSplit("heldout_characters", "the held-out characters of the "
              "background alphabets (TFDS train)",
              grouping="alphabet_rotation", evaluators=ALL_SPLIT_EVALUATORS),
    EvalSplit("vinyals_val", "the Vinyals split's val classes",
              grouping="vinyals_class", evaluators=("fewshot",),
              vinyals_file="val"),
    EvalSplit("vinyals_test", "the Vinyals split's test classes",
              grouping="vinyals_class", evaluators=("fewshot",),
              vinyals_file="test"),
)}


def train_split(name: str) -> TrainSplit:
  return TRAIN_SPLITS[name]


def trains_on_vinyals(name: str) -> bool:
  return bool(TRAIN_SPLITS[name].vinyals_file)
