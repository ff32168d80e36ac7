"""The disjoint-character protocol on the upright drawings of a split: each
alphabet's characters cut into charsets_per_alphabet seeded disjoint sets,
a group = the drawings of one set (same-alphabet groups share no character
and no drawing). The note's metric and retrieval for one split with every
drawing, and the group-size curve over `resamples` resamples.

Settings (config.evals.disjoint_characters): charsets_per_alphabet;
size_curve, the drawings per group of the curve (0: all); resamples."""
import numpy as np

from grouprep import metrics
from grouprep.evaluators.common import check
from grouprep.evaluators.common import is_int

SETTINGS = ("charsets_per_alphabet", "size_curve", "resamples")


def validate(settings, field: str) -> None:
  check(is_int(settings.charsets_per_alphabet, 2),
        f"{field}.charsets_per_alphabet", settings.charsets_per_alphabet,
        ">= 2 (a group needs a same-alphabet group to be compared with)")
  check(is_int(settings.resamples, 2), f"{field}.resamples",
        settings.resamples, ">= 2 (the curve reports a spread)")
  check(all(is_int(n, 0) for n in settings.size_curve), f"{field}.size_curve",
        settings.size_curve, "integers >= 0 (0: every drawing)")


def run_split(encoder, split, settings) -> dict:
  seed, ev = encoder.seed, settings
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
      alphabet, character, ev.charsets_per_alphabet, (seed, 0))
  g_emb = embed(members)
  return {"disjoint_characters": {
      "distance": metrics.distance_stats(g_emb, labels),
      "retrieval": metrics.group_retrieval(g_emb, labels),
      "size_curve": metrics.group_size_curve(
          alphabet, character, tuple(ev.size_curve), ev.resamples,
          ev.charsets_per_alphabet, seed, embed),
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
