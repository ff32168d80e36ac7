"""The disjoint-character protocol on the upright drawings of a split: each
alphabet's characters cut into eval.charsets_per_alphabet seeded disjoint
sets, a group = the drawings of one set (same-alphabet groups share no
character and no drawing). The note's metric and retrieval for one split with
every drawing, and the group-size curve over eval.size_curve_resamples
resamples."""
import numpy as np

from grouprep import metrics


def run_split(encoder, split) -> dict:
  config, ev = encoder.config, encoder.config.eval
  data, groups = split.data, split.groups
  upright = np.flatnonzero(groups.item_rotation == 0)
  image = groups.item_image[upright]
  # An alphabet with fewer characters than sets (possible on a subsample of
  # characters) cannot be split: it is left out, and the count reported.
  chars = {a: len(np.unique(data.character[image][data.alphabet[image] == a]))
           for a in np.unique(data.alphabet[image])}
  splittable = [a for a, n in chars.items() if n >= ev.charsets_per_alphabet]
  upright = upright[np.isin(data.alphabet[image], splittable)]
  image = groups.item_image[upright]
  alphabet, character = data.alphabet[image], data.character[image]
  pool_in = split.space.pool_input(split.raw[upright])
  embed = lambda members: split.space.groups(pool_in, members)
  # The size curve's first resample with every drawing.
  members, labels = metrics.charset_groups(
      alphabet, character, ev.charsets_per_alphabet, (config.seed, 0))
  g_emb = embed(members)
  return {"disjoint_characters": {
      "distance": metrics.distance_stats(g_emb, labels),
      "retrieval": metrics.group_retrieval(g_emb, labels),
      "size_curve": metrics.group_size_curve(
          alphabet, character, tuple(ev.size_curve), ev.size_curve_resamples,
          ev.charsets_per_alphabet, config.seed, embed),
      "num_groups": len(members), "num_alphabets": len(splittable),
      "alphabets_left_out": len(chars) - len(splittable),
      "charsets_per_alphabet": int(ev.charsets_per_alphabet)}}


def scalars(result: dict) -> dict:
  """What the evaluation during training logs: group recall@1 with every
  drawing (mean over the size curve's resamples) and with 5 drawings."""
  curve = result["disjoint_characters"]["size_curve"]
  out = {"dc_recall_at_1": curve["all"]["recall_at_1"]["mean"]}
  if "5" in curve:
    out["dc_recall_at_1_n5"] = curve["5"]["recall_at_1"]["mean"]
  return out
