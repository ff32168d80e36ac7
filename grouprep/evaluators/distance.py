"""The note's metric: mean distance between same-label and different-label
group embeddings, their ratio, and the same per alphabet."""
from grouprep import metrics


def run_split(encoder, split, settings) -> dict:
  del encoder, settings
  return {"distance": metrics.distance_stats(split.group_emb, split.labels),
          "distance_per_alphabet": metrics.distance_stats_per_label(
              split.group_emb, split.labels, split.data.label_names)}
