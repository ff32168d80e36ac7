"""Evaluation metrics as pure functions of embeddings and labels (SPEC §5).

Shapes: G groups, I items, D embedding dim, E episodes, N ways, K shots,
Q queries per class. Distances are Euclidean, in embedding units.
"""
from concurrent import futures
from typing import Dict, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from grouprep import pooling
from grouprep.data import groups as groups_lib


def pairwise_distances(a: np.ndarray, b: np.ndarray = None,
                       dtype=np.float64) -> np.ndarray:
  """Euclidean distances. a: [Na, D], b: [Nb, D] (default a) -> [Na, Nb]."""
  a = np.asarray(a, dtype)
  b = a if b is None else np.asarray(b, dtype)
  sq = np.sum(a * a, -1)[:, None] + np.sum(b * b, -1)[None, :] - 2 * a @ b.T
  return np.sqrt(np.maximum(sq, 0.0))


# --------------------------------------------------------------------------
# The note's metric.
# --------------------------------------------------------------------------
def _pair_means(dist, labels, rows):
  same = labels[rows][:, None] == labels[None, :]
  not_self = np.arange(len(labels))[None, :] != np.flatnonzero(rows)[:, None]
  d = dist[rows]
  return d[same & not_self], d[~same]


def distance_stats(group_emb: np.ndarray, group_label: np.ndarray) -> Dict:
  """Mean ||f(G) - f(G')|| over same-label and different-label group pairs.

  group_emb: [G, D], group_label: [G]. Unordered pairs of distinct groups;
  ratio = diff_label_mean / same_label_mean (higher is better).
  """
  dist = pairwise_distances(group_emb)
  same = group_label[:, None] == group_label[None, :]
  upper = np.triu(np.ones_like(same), k=1)
  same_mean = float(dist[same & upper].mean())
  diff_mean = float(dist[~same & upper].mean())
  return {"same_label_mean": same_mean, "diff_label_mean": diff_mean,
          "ratio": diff_mean / same_mean if same_mean > 0 else float("inf")}


def distance_stats_per_label(group_emb, group_label,
                             names: Sequence[str]) -> Dict:
  """distance_stats over the pairs that involve each label: {name: stats}."""
  dist = pairwise_distances(group_emb)
  out = {}
  for k in np.unique(group_label):
    same, diff = _pair_means(dist, group_label, group_label == k)
    out[str(names[k])] = {"same_label_mean": float(same.mean()),
                          "diff_label_mean": float(diff.mean()),
                          "ratio": float(diff.mean() / same.mean())}
  return out


# --------------------------------------------------------------------------
# Theorem 1.
# --------------------------------------------------------------------------
def _distance_extremes(item_emb: np.ndarray, offsets: np.ndarray,
                       chunk: int = 512) -> tuple:
  """Farthest and nearest distance from each item to each group.

  item_emb: [I, D] sorted by group, group g = rows offsets[g]:offsets[g+1].
  Returns ([I, G] max, [I, G] min). The same float32 arithmetic as
  pairwise_distances; the extremes are taken over squared distances and the
  square root after (exact: sqrt is monotone and correctly rounded), in row
  chunks on two threads (numpy releases the GIL), memory ~2 * chunk * I.
  """
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

  # Even chunks: no single-row remainder, which BLAS would take through
  # another kernel (a matrix-vector product, rounded differently).
  cuts = np.linspace(0, len(x), -(-len(x) // chunk) + 1).astype(int)
  with futures.ThreadPoolExecutor(2) as pool:
    list(pool.map(rows, zip(cuts[:-1], cuts[1:])))
  return far, near


def triplet_margin(item_emb: np.ndarray, item_label: np.ndarray,
                   offsets: np.ndarray) -> float:
  """The empirical triplet margin of Theorem 1's premise,
  m = max over triplets (a, p, n) of ||a - p|| - ||a - n|| (p shares a's
  label, n does not), exhaustive over the items. item_emb: [I, D] sorted by
  group (offsets: [G + 1]); item_label: [I]."""
  g = len(offsets) - 1
  item_group = np.repeat(np.arange(g), np.diff(offsets))
  group_label = item_label[np.asarray(offsets[:-1])]
  far, near = _distance_extremes(item_emb, offsets)  # [I, G]
  same = group_label[item_group][:, None] == group_label[None, :]
  return float(np.max(np.where(same, far, -np.inf).max(1)
                      - np.where(same, np.inf, near).min(1)))


def ordered_triplet_fraction(item_emb: np.ndarray, item_label: np.ndarray,
                             num_triplets: int, seed: int,
                             item_drawing: np.ndarray = None,
                             chunk: int = 65536) -> float:
  """Fraction of evaluation triplets (a, p, n) with ||a - p|| < ||a - n||,
  estimated from `num_triplets` drawn uniformly from all triplets: p another
  item of a's label that is not a copy of a's drawing (with rotation groups a
  rotated copy would reward rotation invariance, not the label), n an item of
  another label. 1.0 for an encoder that meets Theorem 1's premise with m < 0;
  0.5 is chance. item_emb: [I, D]; item_label, item_drawing: [I]."""
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
  # p: uniform over a's label, redrawn while it is a copy of a's drawing.
  p = order[starts[la] + rng.integers(0, counts[la])]
  bad = np.flatnonzero(drawing[p] == drawing[a])
  while len(bad):
    p[bad] = order[starts[la[bad]] + rng.integers(0, counts[la[bad]])]
    bad = bad[drawing[p[bad]] == drawing[a[bad]]]
  # n: uniform over the items outside a's label.
  k = rng.integers(0, len(x) - counts[la])
  n = order[np.where(k < starts[la], k, k + counts[la])]
  closer = np.concatenate([  # in chunks: x[a] whole would be [T, D] float64
      np.linalg.norm(x[a[lo:lo + chunk]] - x[p[lo:lo + chunk]], axis=1) <
      np.linalg.norm(x[a[lo:lo + chunk]] - x[n[lo:lo + chunk]], axis=1)
      for lo in range(0, num_triplets, chunk)])
  return float(np.mean(closer))


def theorem1(group_emb: np.ndarray, group_label: np.ndarray,
             item_emb: np.ndarray, offsets: np.ndarray,
             margin_m: float = None, num_triplets: int = 100_000,
             seed: int = 0, item_drawing: np.ndarray = None,
             margin_source: str = "train_groups") -> Dict:
  """Theorem 1 of the note, tested where it can fail.

  For same-label groups G1, G2 and a group N of another label the theorem
  states ||f(G1) - f(G2)|| <= 2 max{m, max_{s1 in G1, s2 in N} ||s1 - s2||}
  for an f whose triplet margin is m. margin_m: m measured elsewhere (on the
  training groups: the premise is a property of f; margin_source says which
  groups); None takes m on these items, which makes the bound hold by
  construction (||c1 - c2|| <= m + D).
  The bound holds for every N, so the one reported is the tightest: min over N
  (and over the roles of G1 and G2). group_emb: [G, D] centroids; item_emb:
  [I, D] sorted by group (offsets: [G + 1]); item_drawing: [I] drawing ids
  for ordered_triplet_fraction.
  """
  g = len(group_label)
  item_group = np.repeat(np.arange(g), np.diff(offsets))
  item_label = group_label[item_group]
  far, near = _distance_extremes(item_emb, offsets)  # [I, G]
  same = item_label[:, None] == group_label[None, :]  # [I, G]
  m_here = float(np.max(np.where(same, far, -np.inf).max(1)
                        - np.where(same, np.inf, near).min(1)))
  m = m_here if margin_m is None else float(margin_m)
  max_between = np.maximum.reduceat(far, np.asarray(offsets[:-1]), axis=0)
  diff = group_label[:, None] != group_label[None, :]
  tightest = np.where(diff, max_between, np.inf).min(1)  # [G], over N
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
# Retrieval and assignment.
# --------------------------------------------------------------------------
def group_retrieval(group_emb: np.ndarray, group_label: np.ndarray) -> Dict:
  """Each group queries the others by distance: recall@1 and mAP (same label
  = relevant). group_emb: [G, D], group_label: [G]."""
  dist = pairwise_distances(group_emb)
  np.fill_diagonal(dist, np.inf)
  order = np.argsort(dist, axis=1, kind="stable")[:, :-1]  # self is last
  rel = group_label[order] == group_label[:, None]  # [G, G-1]
  hits = np.cumsum(rel, axis=1)
  ranks = np.arange(1, rel.shape[1] + 1)
  ap = (rel * hits / ranks).sum(1) / np.maximum(rel.sum(1), 1)
  valid = rel.sum(1) > 0
  return {"recall_at_1": float(rel[valid, 0].mean()),
          "map": float(ap[valid].mean())}


def item_to_group_accuracy(item_emb: np.ndarray, item_group: np.ndarray,
                           item_image: np.ndarray, group_emb: np.ndarray,
                           group_label: np.ndarray, leave_out) -> float:
  """Fraction of items whose nearest group embedding has the item's label.

  Everything is in the evaluated embedding space; nearest = smallest
  Euclidean distance there. Every group of
  the item's label that holds a drawing of the item (its own group, and with
  rotation groups the groups of its rotated copies) is re-pooled without that
  drawing: leave_out(g) -> [M_g, D], row k = group g pooled without member k.
  item_emb: [I, D], item_group / item_image: [I], group_emb: [G, D],
  group_label: [G].
  """
  dist = pairwise_distances(item_emb, group_emb)  # [I, G]
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
  pred = group_label[np.argmin(dist, axis=1)]
  return float(np.mean(pred == item_label))


# --------------------------------------------------------------------------
# The disjoint-character protocol's group-size curve.
# --------------------------------------------------------------------------
def t_interval(values) -> Dict:
  """Mean and half-width of the 95% t-interval (n - 1 degrees of freedom)."""
  import scipy.stats  # pylint: disable=g-import-not-at-top
  v = np.asarray(values, np.float64)
  half = (float(scipy.stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1)
                / np.sqrt(len(v))) if len(v) > 1 else float("nan"))
  return {"mean": float(v.mean()), "ci95": half, "n": int(len(v))}


def charset_groups(item_alphabet: np.ndarray, item_character: np.ndarray,
                   sets: int, seed) -> tuple:
  """The disjoint-character groups of the items: each alphabet's characters
  cut into `sets` disjoint sets (groups_lib.character_sets, seeded).
  item_alphabet / item_character: [I]. Returns (members: a list of [n_g]
  item indices in (alphabet, set) order, labels: [G] their alphabets)."""
  charset = groups_lib.character_sets(item_alphabet, item_character,
                                      np.arange(len(item_alphabet)), sets, seed)
  key = item_alphabet.astype(np.int64) * sets + charset
  members = [np.flatnonzero(key == k) for k in np.unique(key)]
  return members, np.array([item_alphabet[m[0]] for m in members])


def group_size_curve(item_alphabet: np.ndarray, item_character: np.ndarray,
                     sizes, resamples: int, sets: int, seed: int,
                     embed_groups) -> Dict:
  """Recall@1 and the note's ratio against drawings per group.

  Per resample r: the characters of each alphabet are cut into `sets`
  disjoint sets (seed (seed, r)); for each n in sizes a group is n drawings of
  one set drawn at random (seed (seed, r, n); all of them when n == 0 or the
  set has fewer). embed_groups(list of [n_g] item indices) -> [G, D] group
  embeddings. item_alphabet / item_character: [I] (upright drawings).
  Returns {"1": {"recall_at_1": t_interval, "ratio": t_interval}, ..., "all"}.
  """
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
# Few-shot classification.
# --------------------------------------------------------------------------
def sample_episodes(item_class: np.ndarray, ways: int, shots: int,
                    queries: int, episodes: int, seed: int) -> tuple:
  """Item indices of support [E, N, K] and query [E, N, Q] sets.

  N distinct classes per episode; K + Q distinct items per class.
  """
  rng = np.random.default_rng(seed)
  classes, inverse = np.unique(item_class, return_inverse=True)
  order = np.argsort(inverse, kind="stable")
  counts = np.bincount(inverse)
  starts = np.r_[0, np.cumsum(counts)[:-1]]
  eligible = np.flatnonzero(counts >= shots + queries)
  if len(eligible) < ways:
    raise ValueError(f"{ways}-way {shots}-shot needs {ways} classes with "
                     f"{shots + queries} items; only {len(eligible)} have them.")
  keys = rng.random((episodes, len(eligible)))
  chosen = eligible[np.argsort(keys, axis=1)[:, :ways]]  # [E, N]
  width = counts.max()
  keys = rng.random((episodes, ways, width))
  keys[np.arange(width)[None, None, :] >= counts[chosen][..., None]] = np.inf
  pick = np.argsort(keys, axis=2)[..., :shots + queries]  # [E, N, K+Q]
  idx = order[starts[chosen][..., None] + pick]
  return idx[..., :shots], idx[..., shots:]


@jax.jit
def _episode_accuracy(support: jax.Array, query: jax.Array) -> jax.Array:
  """support: [E, N, K, D], query: [E, N, Q, D] -> [E] accuracy."""
  protos = pooling.centroid(support)  # [E, N, D]
  d = (jnp.sum(query**2, -1)[..., None]
       - 2 * jnp.einsum("enqd,ekd->enqk", query, protos)
       + jnp.sum(protos**2, -1)[:, None, None, :])
  pred = jnp.argmin(d, axis=-1)  # [E, N, Q]
  return jnp.mean(pred == jnp.arange(support.shape[1])[None, :, None],
                  axis=(1, 2))


def fewshot_accuracy(item_emb: np.ndarray, item_class: np.ndarray, ways: int,
                     shots: int, queries: int = 5, episodes: int = 1000,
                     seed: int = 0) -> Dict:
  """N-way K-shot accuracy with centroid prototypes (squared Euclidean).

  Returns the mean over episodes and the half-width of its 95% CI.
  """
  s, q = sample_episodes(item_class, ways, shots, queries, episodes, seed)
  acc = np.asarray(_episode_accuracy(jnp.asarray(item_emb[s]),
                                     jnp.asarray(item_emb[q])))
  return {"mean": float(acc.mean()),
          "ci95": float(1.96 * acc.std(ddof=1) / np.sqrt(len(acc))),
          "episodes": int(episodes)}


def nearest_neighbour_error(test_emb: np.ndarray, train_emb: np.ndarray,
                            test_label: np.ndarray) -> float:
  """Lake et al.'s one-shot rule: each test item takes the class of the
  nearest training item (row j of train_emb is class j). Returns the error."""
  pred = np.argmin(pairwise_distances(test_emb, train_emb), axis=1)
  return float(np.mean(pred != test_label))
