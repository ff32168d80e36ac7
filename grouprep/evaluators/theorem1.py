"""Theorem 1 where it can fail: the triplet margin m measured on the
encoder's training groups (run_encoder), the bound tested on each evaluation
split's groups (run_split).

Settings (config.evals.theorem1): sampled_items, a seeded sample of this
many items in all, spread evenly over the groups, on the training groups (m)
and on each evaluation split (the same count, as m is a maximum that grows
with the sample; 0: all items); triplets, the evaluation triplets sampled."""
from grouprep import metrics
from grouprep.data.sampler import gather_images
from grouprep.encoder import group_centroids
from grouprep.evaluators.common import check
from grouprep.evaluators.common import is_int
from grouprep.evaluators.common import sample_items

SETTINGS = ("sampled_items", "triplets")


def validate(settings, field: str) -> None:
  check(is_int(settings.sampled_items, 0), f"{field}.sampled_items",
        settings.sampled_items, "an integer >= 0 (0: all)")
  check(is_int(settings.triplets, 1), f"{field}.triplets", settings.triplets,
        "a positive integer")


def train_margin(encoder, settings) -> dict:
  """m, a property of the encoder, on its training characters with alphabet
  labels (the source's train_characters: the training groups where their
  classes are alphabets, else the note's alphabet x rotation groups of the
  training characters), a seeded sample of settings.sampled_items items
  spread over them, in the method's space."""
  images, groups, source = encoder.inputs.train_characters()
  sub, offsets = sample_items(groups, settings.sampled_items, encoder.seed)
  items = encoder.space.items(
      encoder.embed(gather_images(images, groups, sub)))
  return {"margin_m": metrics.triplet_margin(
      items, groups.group_class[groups.item_group[sub]], offsets),
          "source": source, "num_groups": int(groups.num_groups),
          "num_items": int(len(sub))}


def run_encoder(encoder, settings) -> dict:
  return {"theorem1_train_groups": encoder.once(
      "train_margin", lambda: train_margin(encoder, settings))}


def run_split(encoder, split, settings) -> dict:
  """Theorem 1 is stated for centroids: measured on a seeded sample of each
  group, with the sample's centroids (in the space) as the group embeddings."""
  margin = encoder.once("train_margin",
                        lambda: train_margin(encoder, settings))
  groups, items = split.groups, split.items
  sub, offsets = sample_items(groups, settings.sampled_items, encoder.seed)
  return {"theorem1": metrics.theorem1(
      group_centroids(items[sub], offsets), split.labels, items[sub], offsets,
      num_triplets=settings.triplets, seed=encoder.seed,
      item_drawing=groups.item_image[sub], margin_m=margin["margin_m"],
      margin_source=margin["source"])}
