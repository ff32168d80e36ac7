"""Group retrieval: recall@1 and mAP of same-label groups."""
from grouprep import metrics


def run_split(encoder, split, settings) -> dict:
  del encoder, settings
  return {"retrieval": metrics.group_retrieval(split.group_emb, split.labels)}
