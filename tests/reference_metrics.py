"""The evaluation's NumPy predecessors, kept as the reference the jitted
metrics (grouprep/metrics.py) are checked against: copied from grouprep as of
commit 929d521 (host NumPy, float64 where they were, unpadded shapes), with
the decisions behind each rate exposed (`*_decisions`) so that a test can
count the ones that differ. `installed(monkeypatch)` makes evaluate() compute
every metric the old way. Not imported by grouprep."""
import dataclasses
import math
import os
from concurrent import futures

import jax
import jax.numpy as jnp
import numpy as np

from grouprep import encoder as encoder_lib
from grouprep import losses
from grouprep import metrics
from grouprep import pooling
from grouprep.evaluators import common
from grouprep.evaluators import disjoint_characters
from grouprep.evaluators import fewshot
from grouprep.evaluators import item_to_group
from grouprep.evaluators import registry
from grouprep.evaluators import theorem1 as theorem1_eval

# Not replaced: the distance table, retrieval, the charset split and the
# t-interval were host NumPy already, so installed() leaves grouprep's in
# place and metrics.json's leaves from them meet themselves here. Their own
# references: loops in tests/test_metrics.py (distances, retrieval), scipy
# in tests/test_stats.py (the t-interval), tests/test_data.py (charsets).
pairwise_distances = metrics.pairwise_distances
distance_stats = metrics.distance_stats
group_retrieval = metrics.group_retrieval
charset_groups = metrics.charset_groups
t_interval = metrics.t_interval


# --------------------------------------------------------------------------
# Theorem 1.
# --------------------------------------------------------------------------
def distance_extremes(item_emb, offsets, chunk=512):
  """[I, G] farthest and nearest distance from each item to each group
  (float32, extremes over squared distances, two threads)."""
  x = np.asarray(item_emb, np.float32)
  starts = np.asarray(offsets[:-1])
  sq, twice = np.sum(x * x, -1), 2 * x
  far = np.empty((len(x), len(starts)), np.float32)
  near = np.empty_like(far)

  def rows(bounds):
    lo, hi = bounds
    d = sq[lo:hi, None] + sq[None, :]
    d -= twice[lo:hi] @ x.T
    far[lo:hi] = np.sqrt(np.maximum(np.maximum.reduceat(d, starts, 1), 0.0))
    near[lo:hi] = np.sqrt(np.maximum(np.minimum.reduceat(d, starts, 1), 0.0))

  cuts = np.linspace(0, len(x), -(-len(x) // chunk) + 1).astype(int)
  with futures.ThreadPoolExecutor(2) as pool:
    list(pool.map(rows, zip(cuts[:-1], cuts[1:])))
  return far, near


def triplet_margin(item_emb, item_label, offsets):
  g = len(offsets) - 1
  item_group = np.repeat(np.arange(g), np.diff(offsets))
  group_label = item_label[np.asarray(offsets[:-1])]
  far, near = distance_extremes(item_emb, offsets)
  same = group_label[item_group][:, None] == group_label[None, :]
  return float(np.max(np.where(same, far, -np.inf).max(1)
                      - np.where(same, np.inf, near).min(1)))


def ordered_triplet_decisions(item_emb, item_label, num_triplets, seed,
                              item_drawing=None, chunk=65536):
  """[T] bool, float64 norms."""
  rng = np.random.default_rng(seed)
  x = np.asarray(item_emb, np.float64)
  drawing = np.arange(len(x)) if item_drawing is None else np.asarray(
      item_drawing)
  order = np.argsort(item_label, kind="stable")
  labels, starts, counts = np.unique(item_label[order], return_index=True,
                                     return_counts=True)
  la_all = np.searchsorted(labels, item_label)
  _, pair, copies = np.unique(np.stack([item_label, drawing]), axis=1,
                              return_inverse=True, return_counts=True)
  positives = counts[la_all] - copies[pair.ravel()]
  weight = positives * (len(x) - counts[la_all]).astype(np.float64)
  a = rng.choice(len(x), num_triplets, p=weight / weight.sum())
  la = la_all[a]
  p = order[starts[la] + rng.integers(0, counts[la])]
  bad = np.flatnonzero(drawing[p] == drawing[a])
  while len(bad):
    p[bad] = order[starts[la[bad]] + rng.integers(0, counts[la[bad]])]
    bad = bad[drawing[p[bad]] == drawing[a[bad]]]
  k = rng.integers(0, len(x) - counts[la])
  n = order[np.where(k < starts[la], k, k + counts[la])]
  return np.concatenate([
      np.linalg.norm(x[a[lo:lo + chunk]] - x[p[lo:lo + chunk]], axis=1) <
      np.linalg.norm(x[a[lo:lo + chunk]] - x[n[lo:lo + chunk]], axis=1)
      for lo in range(0, num_triplets, chunk)])


def ordered_triplet_fraction(item_emb, item_label, num_triplets, seed,
                             item_drawing=None):
  return float(np.mean(ordered_triplet_decisions(
      item_emb, item_label, num_triplets, seed, item_drawing)))


def theorem1(group_emb, group_label, item_emb, offsets, margin_m=None,
             num_triplets=100_000, seed=0, item_drawing=None,
             margin_source="train_groups"):
  g = len(group_label)
  item_group = np.repeat(np.arange(g), np.diff(offsets))
  item_label = group_label[item_group]
  far, near = distance_extremes(item_emb, offsets)
  same = item_label[:, None] == group_label[None, :]
  m_here = float(np.max(np.where(same, far, -np.inf).max(1)
                        - np.where(same, np.inf, near).min(1)))
  m = m_here if margin_m is None else float(margin_m)
  max_between = np.maximum.reduceat(far, np.asarray(offsets[:-1]), axis=0)
  diff = group_label[:, None] != group_label[None, :]
  tightest = np.where(diff, max_between, np.inf).min(1)
  i, j = np.triu_indices(g, 1)
  keep = group_label[i] == group_label[j]
  i, j = i[keep], j[keep]
  bound = 2 * np.maximum(m, np.minimum(tightest[i], tightest[j]))
  d = np.linalg.norm(group_emb[i] - group_emb[j], axis=1)
  return {"margin_m": m,
          "margin_source": "these_groups" if margin_m is None
                           else margin_source,
          "margin_m_eval_groups": m_here,
          "bound_mean": float(bound.mean()),
          "bound_holds_fraction": float(np.mean(d <= bound)),
          "mean_distance_over_bound": float(np.mean(d / bound)),
          "ordered_triplet_fraction": ordered_triplet_fraction(
              item_emb, item_label, num_triplets, seed, item_drawing),
          "num_triplets": int(num_triplets),
          "num_items": int(len(item_emb))}


# --------------------------------------------------------------------------
# Item -> group.
# --------------------------------------------------------------------------
def item_to_group_decisions(item_emb, item_group, item_image, group_emb,
                            group_label, leave_out):
  """[I] bool; distances in float64, the re-pooled ones in float32."""
  dist = pairwise_distances(item_emb, group_emb)
  item_label = group_label[item_group]
  for g in range(len(group_emb)):
    members = np.flatnonzero(item_group == g)
    by_image = np.argsort(item_image[members], kind="stable")
    images = item_image[members][by_image]
    cand = np.flatnonzero(item_label == group_label[g])
    pos = np.minimum(np.searchsorted(images, item_image[cand]),
                     len(images) - 1)
    has = images[pos] == item_image[cand]
    cand, pos = cand[has], by_image[pos[has]]
    dist[cand, g] = np.linalg.norm(item_emb[cand] - leave_out(g)[pos], axis=1)
  return group_label[np.argmin(dist, axis=1)] == item_label


def item_to_group_accuracy(*args):
  return float(np.mean(item_to_group_decisions(*args)))


# --------------------------------------------------------------------------
# The size curve and the groups it pools (unpadded: one call per size).
# --------------------------------------------------------------------------
def space_groups(space, pool_input, members):
  """common.Space.groups as it was: groups of equal size pooled in one
  call ([G_n, n, D])."""
  pool = jax.jit(lambda x, params: pooling.get_pooling(
      space._pool_name, params)(x))  # pylint: disable=protected-access
  out = np.zeros((len(members), pool_input.shape[1]), np.float32)
  sizes = np.array([len(m) for m in members])
  for n in np.unique(sizes):
    rows = np.flatnonzero(sizes == n)
    stack = pool_input[np.stack([members[r] for r in rows])]
    out[rows] = np.asarray(pool(stack, space._params))  # pylint: disable=protected-access
  if space.pools_in_loss and space.name == "unit":
    out = np.asarray(jax.jit(losses.l2_normalize)(out))
  return out


def group_size_curve(item_alphabet, item_character, sizes, resamples, sets,
                     seed, embed_groups):
  """embed_groups(list of [n_g] item indices) -> [G, D], one call per
  resample and size."""
  per_size = {n: {"recall_at_1": [], "ratio": []} for n in sizes}
  for r in range(resamples):
    members, labels = charset_groups(item_alphabet, item_character, sets,
                                     (seed, r))
    for n in sizes:
      rng = np.random.default_rng([seed, r, n])
      chosen = [m if n == 0 or len(m) <= n
                else np.sort(rng.choice(m, n, replace=False)) for m in members]
      emb = embed_groups(chosen)
      per_size[n]["recall_at_1"].append(
          group_retrieval(emb, labels)["recall_at_1"])
      per_size[n]["ratio"].append(distance_stats(emb, labels)["ratio"])
  return {str(n) if n else "all": {k: t_interval(v) for k, v in vals.items()}
          for n, vals in per_size.items()}


# --------------------------------------------------------------------------
# Few-shot (the episodes drawn on the host, scored by one jitted call on
# [E, N, K, D] gathered on the host, squared distances expanded uncentred).
# --------------------------------------------------------------------------
@jax.jit
def _episode_decisions(support, query):
  protos = pooling.centroid(support)  # [E, N, D]
  d = (jnp.sum(query**2, -1)[..., None]
       - 2 * jnp.einsum("enqd,ekd->enqk", query, protos)
       + jnp.sum(protos**2, -1)[:, None, None, :])
  return jnp.argmin(d, axis=-1) == jnp.arange(support.shape[1])[None, :,
                                                                 None]


def fewshot_decisions(item_emb, item_class, ways, shots, queries=5,
                      episodes=1000, seed=0):
  """[E, N, Q] bool."""
  s, q = metrics.sample_episodes(item_class, ways, shots, queries, episodes,
                                 seed)
  return np.asarray(_episode_decisions(jnp.asarray(item_emb[s]),
                                       jnp.asarray(item_emb[q])))


def fewshot_accuracy(item_emb, item_class, ways, shots, queries=5,
                     episodes=1000, seed=0):
  acc = np.asarray(fewshot_decisions(item_emb, item_class, ways, shots,
                                     queries, episodes, seed).mean(
                                         axis=(1, 2), dtype=np.float32))
  return {"mean": float(acc.mean()),
          "ci95": float(1.96 * acc.std(ddof=1) / np.sqrt(len(acc))),
          "episodes": int(episodes)}


# --------------------------------------------------------------------------
# The evaluators' glue as it was.
# --------------------------------------------------------------------------
def theorem1_run_split(encoder, split, settings):
  margin = encoder.once("train_margin",
                        lambda: theorem1_eval.train_margin(encoder, settings))
  groups, items = split.groups, split.items
  sub, offsets = common.sample_items(groups, settings.sampled_items,
                                     encoder.seed)
  centroids = np.stack([
      np.asarray(pooling.centroid(items[sub][offsets[g]:offsets[g + 1]]))
      for g in range(groups.num_groups)])
  return {"theorem1": theorem1(
      centroids, split.labels, items[sub], offsets,
      num_triplets=settings.triplets, seed=encoder.seed,
      item_drawing=groups.item_image[sub], margin_m=margin["margin_m"],
      margin_source=margin["source"])}


def disjoint_characters_run_split(encoder, split, settings):
  seed, ev = encoder.seed, settings
  data, groups = split.data, split.groups
  upright = np.flatnonzero(groups.item_rotation == 0)
  image = groups.item_image[upright]
  chars = {a: len(np.unique(data.character[image][data.alphabet[image] == a]))
           for a in np.unique(data.alphabet[image])}
  splittable = [a for a, n in chars.items() if n >= ev.charsets_per_alphabet]
  upright = upright[np.isin(data.alphabet[image], splittable)]
  image = groups.item_image[upright]
  alphabet, character = data.alphabet[image], data.character[image]
  pool_in = split.space.pool_input(split.raw[upright])
  embed = lambda members: space_groups(split.space, pool_in, members)
  members, labels = charset_groups(alphabet, character,
                                   ev.charsets_per_alphabet, (seed, 0))
  g_emb = embed(members)
  return {"disjoint_characters": {
      "distance": distance_stats(g_emb, labels),
      "retrieval": group_retrieval(g_emb, labels),
      "size_curve": group_size_curve(
          alphabet, character, tuple(ev.size_curve), ev.resamples,
          ev.charsets_per_alphabet, seed, embed),
      "num_groups": len(members), "num_alphabets": len(splittable),
      "alphabets_left_out": len(chars) - len(splittable),
      "charsets_per_alphabet": int(ev.charsets_per_alphabet)}}


def installed(monkeypatch):
  """evaluate() with every metric computed as before (the split's groups,
  Theorem 1, item -> group, the size curve, few-shot)."""
  monkeypatch.setattr(
      encoder_lib.Space, "groups",
      lambda self, pool_input, members: space_groups(self, pool_input,
                                                     members))
  monkeypatch.setattr(theorem1_eval.metrics, "triplet_margin", triplet_margin)
  monkeypatch.setattr(item_to_group.metrics, "item_to_group_accuracy",
                      item_to_group_accuracy)
  monkeypatch.setattr(
      fewshot.metrics, "fewshot_accuracies",
      lambda x, cls, settings, queries, episodes, seed: [
          fewshot_accuracy(x, cls, n, k, queries, episodes, seed)
          for n, k in settings])
  evals = dict(registry.EVALUATORS)
  evals["theorem1"] = dataclasses.replace(evals["theorem1"],
                                          run_split=theorem1_run_split)
  evals["disjoint_characters"] = dataclasses.replace(
      evals["disjoint_characters"], run_split=disjoint_characters_run_split)
  for name, ev in evals.items():
    monkeypatch.setitem(registry.EVALUATORS, name, ev)


# --------------------------------------------------------------------------
# Comparing two metrics.json.
# --------------------------------------------------------------------------
# Leaves that count decisions (which group, query or triplet is nearer):
# they may differ where a decision is a tie to float32 rounding.
DECISION_KEYS = ("recall_at_1", "map", "item_to_group_accuracy",
                 "bound_holds_fraction", "ordered_triplet_fraction",
                 "fewshot", "lake_one_shot_error")
# Leaves that are not numbers the metrics compute.
SKIPPED_KEYS = ("eval_seconds", "stack", "trained_stack")


def leaves(d, prefix=""):
  """{dotted path: value} of the numeric leaves of a metrics.json dict."""
  out = {}
  for k, v in d.items():
    path = f"{prefix}.{k}" if prefix else str(k)
    if k in SKIPPED_KEYS:
      continue
    if isinstance(v, dict):
      out.update(leaves(v, path))
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
      out[path] = float(v)
  return out


def family(path: str) -> str:
  """The metric family of a leaf: the evaluator (and decision or not)."""
  parts = path.split(".")
  names = ("distance_per_alphabet", "distance", "theorem1", "retrieval",
           "item_to_group_accuracy", "size_curve", "disjoint_characters",
           "fewshot", "lake_one_shot_error", "theorem1_train_groups")
  name = next((p for p in parts[1:] if p in names), parts[-1])
  if name == "disjoint_characters":
    name += "." + parts[parts.index(name) + 1]
  return name + ("/decisions" if any(k in path for k in DECISION_KEYS)
                 else "")


def compare(new: dict, old: dict) -> dict:
  """{family: (max difference, the leaf, count)} over the numeric leaves both
  hold: relative to |old| (absolute where old is 0) for continuous values,
  absolute for the rates of decisions and their spreads (a rate moves by
  1 / count for each decision that flips)."""
  a, b = leaves(new), leaves(old)
  assert set(a) == set(b), sorted(set(a) ^ set(b))[:10]
  out = {}
  for path in sorted(a):
    x, y = a[path], b[path]
    if x == y or (math.isnan(x) and math.isnan(y)):
      diff = 0.0
    elif math.isfinite(x) and math.isfinite(y):
      decision = any(k in path for k in DECISION_KEYS)
      diff = abs(x - y) / (1.0 if decision else (abs(y) or 1.0))
    else:
      diff = math.inf
    fam = family(path)
    worst, where, n = out.get(fam, (0.0, "", 0))
    out[fam] = (diff, path, n + 1) if diff > worst else (worst, where, n + 1)
  return out


def main(argv=None) -> int:
  """Evaluates a checkpoint with the jitted metrics and with these, the
  untrained encoder afresh both times, and prints the largest relative
  difference per metric family:

    python tests/reference_metrics.py --config=configs/NAME.py[:smoke] \
        --workdir=DIR

  Writes DIR/metrics_jax.json and DIR/metrics_reference.json, and with
  --out=FILE.json the comparison: per family the largest difference
  (compare), its leaf and the number of leaves, with each side's
  eval_seconds. --saved compares the two files an earlier run wrote.
  """
  import argparse  # pylint: disable=g-import-not-at-top
  import importlib  # pylint: disable=g-import-not-at-top
  import json  # pylint: disable=g-import-not-at-top
  import pytest  # pylint: disable=g-import-not-at-top
  from grouprep import evaluate, platform  # pylint: disable=g-import-not-at-top
  p = argparse.ArgumentParser(description=main.__doc__)
  p.add_argument("--config", required=True)
  p.add_argument("--workdir", required=True)
  p.add_argument("--out", default=None)
  p.add_argument("--saved", action="store_true")
  args = p.parse_args(argv)
  path, _, arg = args.config.partition(":")
  name = os.path.splitext(os.path.basename(path))[0]
  config = importlib.import_module(f"configs.{name}").get_config(arg or None)
  platform.configure_cpu_devices(config.num_devices)
  os.environ["GROUPREP_REUSE_UNTRAINED"] = "0"
  out = {}
  for kind in ("jax", "reference"):
    if args.saved:
      with open(os.path.join(args.workdir, f"metrics_{kind}.json")) as f:
        out[kind] = json.load(f)
      continue
    with pytest.MonkeyPatch.context() as patch:
      if kind == "reference":
        installed(patch)
      out[kind] = evaluate.evaluate(config, args.workdir)
    with open(os.path.join(args.workdir, f"metrics_{kind}.json"), "w") as f:
      json.dump(out[kind], f, indent=1)
    print(f"{kind}: eval_seconds {out[kind]['eval_seconds']}", flush=True)
  families = sorted(compare(out["jax"], out["reference"]).items())
  for fam, (diff, where, n) in families:
    print(f"{fam:42s} {n:4d} leaves  max diff {diff:.1e}  {where}")
  if args.out:
    summary = {
        "config": args.config, "step": out["jax"]["step"],
        "stack": out["jax"]["stack"],
        "eval_seconds": {k: v["eval_seconds"] for k, v in out.items()},
        "families": {fam: {"max_diff": diff, "leaf": where, "leaves": n}
                     for fam, (diff, where, n) in families}}
    with open(args.out, "w") as f:
      json.dump(summary, f, indent=1)
  return 0


if __name__ == "__main__":
  import sys  # pylint: disable=g-import-not-at-top
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
      __file__))))
  sys.exit(main())
