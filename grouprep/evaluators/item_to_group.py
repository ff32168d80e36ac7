"""Item -> group assignment: the nearest group embedding, every group that
holds a drawing of the item re-pooled without it (pooling.leave_one_out)."""
from grouprep import metrics


def run_split(encoder, split, settings) -> dict:
  del encoder, settings
  members, pool_in, space = split.members, split.pool_input, split.space
  return {"item_to_group_accuracy": metrics.item_to_group_accuracy(
      split.items, split.groups.item_group, split.groups.item_image,
      split.group_emb, split.labels,
      lambda g: space.leave_out(pool_in[members[g]]))}
