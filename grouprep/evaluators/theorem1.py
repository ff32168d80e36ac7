"""Theorem 1 where it can fail: the triplet margin m measured on the
encoder's training groups (run_encoder), the bound tested on each evaluation
split's groups (run_split)."""
from grouprep import metrics
from grouprep.data import groups as groups_lib
from grouprep.data import pipeline
from grouprep.data import splits
from grouprep.data.sampler import gather_images
from grouprep.encoder import group_centroids
from grouprep.evaluators.common import sample_items


def train_margin(encoder) -> dict:
  """m, a property of the encoder, on its training groups with alphabet
  labels (a seeded sample of eval.theorem1_items items spread over them), in
  the method's space. Methods whose classes are not alphabets (unsupervised,
  or the Vinyals split's characters) are measured on the note's alphabet x
  rotation groups of the training characters."""
  config = encoder.config
  data, images = encoder.inputs.train_characters()
  if config.data.label_key == "alphabet" and \
      not splits.trains_on_vinyals(config.data.train_split):
    groups, source = pipeline.make_groups(config, data, images), "train_groups"
  else:
    groups = groups_lib.build_groups(data.alphabet, images)
    source = "train_characters_rotation_groups"
  sub, offsets = sample_items(groups, config.eval.theorem1_items, config.seed)
  items = encoder.space.items(
      encoder.embed(gather_images(data.images, groups, sub)))
  return {"margin_m": metrics.triplet_margin(
      items, groups.group_class[groups.item_group[sub]], offsets),
          "source": source, "num_groups": int(groups.num_groups),
          "num_items": int(len(sub))}


def run_encoder(encoder) -> dict:
  return {"theorem1_train_groups": encoder.once(
      "train_margin", lambda: train_margin(encoder))}


def run_split(encoder, split) -> dict:
  """Theorem 1 is stated for centroids: measured on a seeded sample of each
  group, with the sample's centroids (in the space) as the group embeddings."""
  config = encoder.config
  margin = encoder.once("train_margin", lambda: train_margin(encoder))
  groups, items = split.groups, split.items
  sub, offsets = sample_items(groups, config.eval.theorem1_items, config.seed)
  return {"theorem1": metrics.theorem1(
      group_centroids(items[sub], offsets), split.labels, items[sub], offsets,
      num_triplets=config.eval.theorem1_triplets, seed=config.seed,
      item_drawing=groups.item_image[sub], margin_m=margin["margin_m"],
      margin_source=margin["source"])}
