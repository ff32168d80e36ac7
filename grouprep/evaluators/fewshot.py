"""N-way K-shot classification with centroid prototypes of item embeddings
(in the method's space), for each (N, K) of FEWSHOT that the split has
classes for (a small folder / CSV dataset may hold fewer than 20 labels:
the others are reported as skipped). The split says which items it
classifies and their classes (SplitData.class_items / item_class: an
Omniglot character's upright drawings, a Vinyals class, a folder's label).

Settings (config.evals.fewshot): episodes per (N, K); queries, the query
items per class and episode."""
from typing import Dict

import numpy as np

from grouprep import metrics
from grouprep.evaluators.common import check
from grouprep.evaluators.common import is_int

FEWSHOT = ((5, 1), (5, 5), (20, 1), (20, 5))  # (ways, shots)
SETTINGS = ("episodes", "queries")


def validate(settings, field: str) -> None:
  for name in SETTINGS:
    check(is_int(settings[name], 1), f"{field}.{name}", settings[name],
          "a positive integer")


def accuracy(split, settings, seed: int, skipped: Dict = None) -> Dict:
  """{"5way_1shot": {"mean", "ci95", "episodes"}, ...}; the (N, K) without
  N classes of K + queries items go into `skipped` with the reason."""
  pos, classes = split.data.class_items, split.data.item_class
  queries = settings.queries
  counts = np.unique(classes, return_counts=True)[1]
  ways_shots = []
  for n, k in FEWSHOT:
    have = int((counts >= k + queries).sum())
    if have >= n:
      ways_shots.append((n, k))
    elif skipped is not None:
      skipped[f"{n}way_{k}shot"] = (
          f"needs {n} classes with {k + queries} items; the split has "
          f"{have}")
  results = metrics.fewshot_accuracies(
      split.items[pos], classes, ways_shots, queries=queries,
      episodes=settings.episodes, seed=seed) if ways_shots else []
  return {f"{n}way_{k}shot": r for (n, k), r in zip(ways_shots, results)}


def run_split(encoder, split, settings) -> dict:
  skipped = {}
  out = {"fewshot": accuracy(split, settings, encoder.seed, skipped)}
  if skipped:
    out["fewshot_skipped"] = skipped
  return out


def scalars(result: dict) -> dict:
  """The accuracies the evaluation during training logs: {"5way_1shot": mean}."""
  return {k: v["mean"] for k, v in result["fewshot"].items()}
