"""Evaluation metrics as pure functions of embeddings and labels (SPEC §5).

Shapes: G groups, I items, D embedding dim, E episodes, N ways, K shots,
Q queries per class. Distances are Euclidean, in embedding units.
"""
from typing import Dict, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from grouprep.pooling import SOFT_MEDOID_TEMPERATURE


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
                       chunk: int = 2048) -> tuple:
  """Farthest and nearest distance from each item to each group.

  item_emb: [I, D] sorted by group, group g = rows offsets[g]:offsets[g+1].
  Returns ([I, G] max, [I, G] min), computed in row chunks (memory ~chunk * I).
  """
  x = np.asarray(item_emb, np.float32)
  starts = np.asarray(offsets[:-1])
  far, near = [], []
  for lo in range(0, len(x), chunk):
    d = pairwise_distances(x[lo:lo + chunk], x, dtype=np.float32)
    far.append(np.maximum.reduceat(d, starts, axis=1))
    near.append(np.minimum.reduceat(d, starts, axis=1))
  return np.concatenate(far), np.concatenate(near)


def theorem1(group_emb: np.ndarray, group_label: np.ndarray,
             item_emb: np.ndarray, offsets: np.ndarray) -> Dict:
  """Theorem 1 of the note, measured.

  m = max over triplets (a, p, n) of ||a - p|| - ||a - n|| (p shares a's label,
  n does not), exhaustive over the given items. For same-label groups G1, G2
  and any group N of another label the theorem states
  ||f(G1) - f(G2)|| <= 2 max{m, max_{s1 in G1, s2 in N} ||s1 - s2||}; it holds
  for every N, so the bound reported is the tightest: min over N.
  group_emb: [G, D]; item_emb: [I, D] sorted by group (offsets: [G + 1]).
  """
  g = len(group_label)
  item_group = np.repeat(np.arange(g), np.diff(offsets))
  far, near = _distance_extremes(item_emb, offsets)  # [I, G]
  same = group_label[item_group][:, None] == group_label[None, :]  # [I, G]
  m = float(np.max(np.where(same, far, -np.inf).max(1)
                   - np.where(same, np.inf, near).min(1)))
  max_between = np.maximum.reduceat(far, np.asarray(offsets[:-1]), axis=0)
  diff = group_label[:, None] != group_label[None, :]
  tightest = np.where(diff, max_between, np.inf).min(1)  # [G], over N
  i, j = np.triu_indices(g, 1)
  keep = group_label[i] == group_label[j]
  i, j = i[keep], j[keep]
  # The statement is symmetric in G1, G2: take the tighter of the two bounds.
  bound = 2 * np.maximum(m, np.minimum(tightest[i], tightest[j]))
  d = np.linalg.norm(group_emb[i] - group_emb[j], axis=1)
  return {"margin_m": m,
          "bound_mean": float(bound.mean()),
          "bound_holds_fraction": float(np.mean(d <= bound)),
          "mean_distance_over_bound": float(np.mean(d / bound)),
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


def _softmax_rows(logits: np.ndarray) -> np.ndarray:
  e = np.exp(logits - logits.max(1, keepdims=True))
  return e / e.sum(1, keepdims=True)


def leave_one_out_pool(members: np.ndarray, pooling: str,
                       params=None) -> np.ndarray:
  """Pooling of a group without each member in turn. members: [M, D] -> [M, D].

  Row i is the pooling (pooling.py's definitions; params for a learned one) of
  the other M-1 members, computed exactly from M x M quantities.
  """
  m = len(members)
  if pooling == "centroid":
    return (members.sum(0)[None] - members) / (m - 1)
  if pooling in ("medoid", "soft_medoid"):
    dist = pairwise_distances(members)
    cost = dist.sum(1)[None, :] - dist  # [i, j]: j's cost without i
    np.fill_diagonal(cost, np.inf)
    if pooling == "medoid":
      return members[np.argmin(cost, axis=1)]
    finite = np.where(np.isinf(cost), 0.0, cost)
    scale = finite.sum(1, keepdims=True) / (m - 1) + 1e-12
    return _softmax_rows(-cost / (SOFT_MEDOID_TEMPERATURE * scale)) @ members
  if pooling == "attention":
    logits = (members @ np.asarray(params["key"])) @ np.asarray(
        params["query"]) / np.sqrt(members.shape[1])
    w = np.exp(logits - logits.max())
    return ((w @ members)[None] - w[:, None] * members) / (
        w.sum() - w)[:, None]
  raise ValueError(f"No leave-one-out rule for pooling {pooling!r}.")


def _unit(x):
  return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def item_to_group_accuracy(item_emb: np.ndarray, item_group: np.ndarray,
                           group_emb: np.ndarray, group_label: np.ndarray,
                           pooling: str, similarity: str = "cosine",
                           pool_params=None) -> float:
  """Fraction of items whose nearest group embedding has the item's label.

  Nearest by the training similarity: largest cosine, or smallest Euclidean
  distance for "neg_sq_euclidean". The item's own group is re-pooled without
  the item (leave-one-out); the other groups are as given.
  item_emb: [I, D], item_group: [I], group_emb: [G, D], group_label: [G].
  """
  prep = _unit if similarity == "cosine" else (lambda x: x)
  dist = pairwise_distances(prep(item_emb), prep(group_emb))  # [I, G]
  for g in range(len(group_emb)):
    idx = np.flatnonzero(item_group == g)
    loo = prep(leave_one_out_pool(item_emb[idx], pooling, pool_params))
    dist[idx, g] = np.linalg.norm(prep(item_emb[idx]) - loo, axis=1)
  pred = group_label[np.argmin(dist, axis=1)]
  return float(np.mean(pred == group_label[item_group]))


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
  protos = support.mean(axis=2)  # [E, N, D]
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
