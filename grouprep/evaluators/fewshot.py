"""N-way K-shot classification with centroid prototypes of item embeddings
(in the method's space), for each (N, K) of FEWSHOT that the split has
classes for (a small folder / CSV dataset may hold fewer than 20 labels:
the others are reported as skipped)."""
from typing import Dict

import numpy as np

from grouprep import metrics
from grouprep.data import splits

FEWSHOT = ((5, 1), (5, 5), (20, 1), (20, 5))  # (ways, shots)


def fewshot_items(split):
  """(positions into the split's items, their few-shot class): characters,
  upright drawings only, on the alphabet splits; the (character, rotation)
  classes on the Vinyals splits (rotations are classes there); the labels
  on a folder / CSV dataset (its data.character aliases its labels)."""
  groups = split.groups
  if splits.EVAL_SPLITS[split.name].grouping == "vinyals_class":
    return np.arange(len(groups.item_image)), groups.item_group
  upright = np.flatnonzero(groups.item_rotation == 0)
  return upright, split.data.character[groups.item_image[upright]]


def accuracy(config, split, episodes: int, skipped: Dict = None) -> Dict:
  """{"5way_1shot": {"mean", "ci95", "episodes"}, ...}; the (N, K) without
  N classes of K + queries items go into `skipped` with the reason."""
  pos, classes = fewshot_items(split)
  counts = np.unique(classes, return_counts=True)[1]
  settings = []
  for n, k in FEWSHOT:
    have = int((counts >= k + config.eval.fewshot_queries).sum())
    if have >= n:
      settings.append((n, k))
    elif skipped is not None:
      skipped[f"{n}way_{k}shot"] = (
          f"needs {n} classes with {k + config.eval.fewshot_queries} "
          f"items; the split has {have}")
  results = metrics.fewshot_accuracies(
      split.items[pos], classes, settings,
      queries=config.eval.fewshot_queries, episodes=episodes,
      seed=config.seed) if settings else []
  return {f"{n}way_{k}shot": r for (n, k), r in zip(settings, results)}


def run_split(encoder, split) -> dict:
  skipped = {}
  out = {"fewshot": accuracy(encoder.config, split,
                             encoder.config.eval.fewshot_episodes, skipped)}
  if skipped:
    out["fewshot_skipped"] = skipped
  return out


def scalars(result: dict) -> dict:
  """The accuracies the evaluation during training logs: {"5way_1shot": mean}."""
  return {k: v["mean"] for k, v in result["fewshot"].items()}
