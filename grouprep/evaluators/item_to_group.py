"""Item -> group assignment: the nearest group embedding, every group that
holds a drawing of the item re-pooled without it (pooling.leave_one_out).

A pooling whose items interact (pooling.REPOOLS_PER_MEMBER: the Set
Transformer) has no cheaper leave-one-out than re-running it once per
member: O(M) passes of O(M^2) attention for a group of M. On a split whose
largest group exceeds MAX_REPOOLED_MEMBERS such a pooling is skipped, with
the reason in metrics.json, rather than run for hours or out of memory:
the unseen alphabets' largest rotation group holds 940 drawings, and one
group padded to 1,024 compiles to 35 GB of temporaries and 560 GFLOP for
the default SAB pooling (XLA's memory and cost analysis)."""
from grouprep import metrics
from grouprep import pooling

MAX_REPOOLED_MEMBERS = 256


def run_split(encoder, split, settings) -> dict:
  del encoder, settings
  members, pool_in, space = split.members, split.pool_input, split.space
  largest = max(len(m) for m in members)
  if space.pool_name in pooling.REPOOLS_PER_MEMBER and \
      largest > MAX_REPOOLED_MEMBERS:
    return {"item_to_group_skipped": (
        f"pooling {space.pool_name!r} re-pools a group once per member to "
        f"leave one out, and this split's largest group holds {largest} "
        f"(more than item_to_group.MAX_REPOOLED_MEMBERS = "
        f"{MAX_REPOOLED_MEMBERS})")}
  return {"item_to_group_accuracy": metrics.item_to_group_accuracy(
      split.items, split.groups.item_group, split.groups.item_image,
      split.group_emb, split.labels,
      lambda g: space.leave_out(pool_in[members[g]]))}
