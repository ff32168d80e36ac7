"""N-way K-shot classification with centroid prototypes of item embeddings
(in the method's space), for each (N, K) of FEWSHOT."""
from typing import Dict

import numpy as np

from grouprep import metrics
from grouprep.data import splits

FEWSHOT = ((5, 1), (5, 5), (20, 1), (20, 5))  # (ways, shots)


def fewshot_items(split):
  """(positions into the split's items, their few-shot class): characters,
  upright drawings only, on the alphabet splits; the (character, rotation)
  classes on the Vinyals splits (rotations are classes there)."""
  groups = split.groups
  if splits.EVAL_SPLITS[split.name].grouping == "vinyals_class":
    return np.arange(len(groups.item_image)), groups.item_group
  upright = np.flatnonzero(groups.item_rotation == 0)
  return upright, split.data.character[groups.item_image[upright]]


def accuracy(config, split, episodes: int) -> Dict:
  pos, classes = fewshot_items(split)
  return {f"{n}way_{k}shot": metrics.fewshot_accuracy(
      split.items[pos], classes, n, k, queries=config.eval.fewshot_queries,
      episodes=episodes, seed=config.seed) for n, k in FEWSHOT}


def run_split(encoder, split) -> dict:
  return {"fewshot": accuracy(encoder.config, split,
                              encoder.config.eval.fewshot_episodes)}


def scalars(result: dict) -> dict:
  """The accuracies the evaluation during training logs: {"5way_1shot": mean}."""
  return {k: v["mean"] for k, v in result["fewshot"].items()}
