"""Evaluation metrics as pure functions of embeddings and labels (SPEC §5).

Shapes: G groups, I items, D embedding dim, E episodes, N ways, K shots,
Q queries per class, T triplets. Distances are Euclidean, in embedding units.

The heavy metrics (Theorem 1's distance extremes, the ordered triplets,
item -> group assignment, the few-shot episodes; the groups of the size
curve in evaluators/common.py) are jitted JAX in float32, at the caller's
jax.default_matmul_precision (evaluate: config.eval.matmul_precision), on
shapes padded to a few sizes (`bucket`, `pow2`) and masked: a handful of
compilations serve every split and encoder. Long axes are walked in blocks
whose arrays stay under XLA's CPU buffer threshold (evaluators/common.py's
CPU_BUFFER_BYTES): in a loop inside the program where a block is much work,
as tiles the host dispatches one after the other where it is little.
Squared distances are expanded from centred embeddings (distances do not
change under translation, and |x|^2 - 2 x.y + |y|^2 cancels less), extremes
are taken over squared distances with the square root after, and means and
the group-level statistics ([G, G]) are taken on the host in float64. The
random draws (triplets, episodes, resamples) are NumPy's, seeded as before.
The NumPy predecessors are in tests/reference_metrics.py.
"""
import math
from typing import Callable, Dict, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from grouprep.data import groups as groups_lib

# The version of the numbers the metrics give: part of the key under which an
# untrained encoder's evaluation is reused (evaluate.py). Bump it with any
# change to what a metric computes or how.
METRICS_VERSION = 2


def bucket(n: int, minimum: int = 8) -> int:
  """A padded size for n: n itself up to `minimum`, above it the next of four
  steps per octave (2^k x 1, 1.25, 1.5, 1.75): under 25 % padding, and few
  distinct shapes (so few compilations)."""
  if n <= minimum:
    return max(int(n), 1)
  step = 1 << max((int(n) - 1).bit_length() - 3, 0)
  return -(-int(n) // step) * step


def pow2(n: int, floor: int = 1) -> int:
  """The smallest power of two >= max(n, floor)."""
  return 1 << (max(int(n), int(floor), 1) - 1).bit_length()


# Arrays that a program only gathers rows from are padded to at least this
# many rows, so that every split's (up to it) shares one compilation.
GATHER_ROWS = 1 << 15


def _padded(x: np.ndarray, rows: int, value=0) -> np.ndarray:
  """x with its first axis padded to `rows` with `value`."""
  x = np.asarray(x)
  pad = np.full((rows - len(x),) + x.shape[1:], value, x.dtype)
  return np.concatenate([x, pad])


def _tiles(n: int, tile: int) -> list:
  """(lo, hi) of the tiles of `tile` rows that cover n rows."""
  return [(lo, min(lo + tile, n)) for lo in range(0, n, tile)]


def _centred(x: np.ndarray, centre=None) -> np.ndarray:
  """x - centre (default: the mean of x), in float64, rounded to float32."""
  x = np.asarray(x, np.float64)
  return (x - (x.mean(0) if centre is None else centre)).astype(np.float32)


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
# Rows of whole groups in one block of Theorem 1's distances: 512 was as
# fast as 1024 or faster (0.37 vs 0.38-0.73 s on 20,480 unit items in 80
# groups, 2-core Zen 4; the same bits), 256 and 2048 slower.
BLOCK_ROWS = 512


@jax.jit
def _extremes(blocks, sq_max, sq_min, pairs):
  """Squared distances between the item blocks (centred), block pair by
  block pair (each distance computed once; both orientations reduced).

  blocks: [B, R, D], each R = H groups x M slots; sq_max / sq_min: [B, H, M]
  |x|^2 of each slot, -inf / inf on padding (so it never wins); pairs: [P, 2]
  the block pairs (a <= b). Returns ([B * R, B * H] the largest, [B * R,
  B * H] the smallest squared distance from each slot to each group).
  """
  nb, r, _ = blocks.shape
  h, m = sq_max.shape[1:]
  sq = jnp.sum(blocks * blocks, -1)  # [B, R]

  def pair(i, out):
    a, b = pairs[i, 0], pairs[i, 1]
    twice = 2 * blocks[a] @ blocks[b].T  # [R, R]
    # Slots of a against the groups of b, and slots of b against those of a.
    t = twice.reshape(r, h, m)
    ab = (sq[a][:, None] + jnp.max(sq_max[b][None] - t, -1),
          sq[a][:, None] + jnp.min(sq_min[b][None] - t, -1))
    t = twice.reshape(h, m, r)
    ba = (sq[b][:, None] + jnp.max(sq_max[a][..., None] - t, 1).T,
          sq[b][:, None] + jnp.min(sq_min[a][..., None] - t, 1).T)
    put = lambda x, v, i, j: jax.lax.dynamic_update_slice(
        x, v[None, :, None], (i, 0, j, 0))
    return tuple(put(put(x, u, a, b), v, b, a)
                 for x, u, v in zip(out, ab, ba))

  empty = jnp.zeros((nb, r, nb, h), blocks.dtype)
  far, near = jax.lax.fori_loop(0, len(pairs), pair, (empty, empty))
  return far.reshape(nb * r, nb * h), near.reshape(nb * r, nb * h)


def distance_extremes(item_emb: np.ndarray, offsets: np.ndarray) -> tuple:
  """Farthest and nearest distance from each item to each group.

  item_emb: [I, D] sorted by group, group g = rows offsets[g]:offsets[g+1].
  Returns ([I, G] max, [I, G] min), float32.
  """
  x = _centred(item_emb)
  offsets = np.asarray(offsets)
  sizes = np.diff(offsets)
  m = bucket(sizes.max())
  h = max(1, BLOCK_ROWS // m)  # groups per block
  g = -(-bucket(len(sizes)) // h) * h
  present = np.zeros((g, m), bool)
  present[:len(sizes)] = np.arange(m)[None, :] < sizes[:, None]
  slot = np.where(present, _padded(offsets[:-1], g)[:, None] + np.arange(m),
                  0)
  sq = np.sum(x * x, -1)[slot]
  shape = (g // h, h, m)
  pairs = np.array([(a, b) for a in range(g // h) for b in range(a, g // h)],
                   np.int32)
  far, near = _extremes(
      np.where(present[..., None], x[slot], 0).reshape(g // h, h * m, -1),
      np.where(present, sq, -np.inf).astype(np.float32).reshape(shape),
      np.where(present, sq, np.inf).astype(np.float32).reshape(shape), pairs)
  root = lambda d: np.sqrt(np.maximum(
      np.asarray(d).reshape(g, m, g)[present][:, :len(sizes)], 0.0))
  return root(far), root(near)


def _margin(far, near, same) -> float:
  """max over items of (farthest same-label) - (nearest other-label)."""
  return float(np.max(np.where(same, far, -np.inf).max(1).astype(np.float64)
                      - np.where(same, np.inf, near).min(1)))


def triplet_margin(item_emb: np.ndarray, item_label: np.ndarray,
                   offsets: np.ndarray) -> float:
  """The empirical triplet margin of Theorem 1's premise,
  m = max over triplets (a, p, n) of ||a - p|| - ||a - n|| (p shares a's
  label, n does not), exhaustive over the items. item_emb: [I, D] sorted by
  group (offsets: [G + 1]); item_label: [I]."""
  g = len(offsets) - 1
  item_group = np.repeat(np.arange(g), np.diff(offsets))
  group_label = item_label[np.asarray(offsets[:-1])]
  far, near = distance_extremes(item_emb, offsets)  # [I, G]
  return _margin(far, near,
                 group_label[item_group][:, None] == group_label[None, :])


def sample_triplets(item_label: np.ndarray, num_triplets: int, seed: int,
                    item_drawing: np.ndarray = None) -> tuple:
  """Item indices (a, p, n), each [T], drawn uniformly from all triplets:
  p another item of a's label that is not a copy of a's drawing (with
  rotation groups a rotated copy would reward rotation invariance, not the
  label), n an item of another label. item_label, item_drawing: [I]."""
  rng = np.random.default_rng(seed)
  size = len(item_label)
  drawing = np.arange(size) if item_drawing is None else np.asarray(
      item_drawing)
  order = np.argsort(item_label, kind="stable")
  labels, starts, counts = np.unique(item_label[order], return_index=True,
                                     return_counts=True)
  la_all = np.searchsorted(labels, item_label)
  _, pair, copies = np.unique(np.stack([item_label, drawing]), axis=1,
                              return_inverse=True, return_counts=True)
  positives = counts[la_all] - copies[pair.ravel()]
  weight = positives * (size - counts[la_all]).astype(np.float64)
  a = rng.choice(size, num_triplets, p=weight / weight.sum())
  la = la_all[a]
  # p: uniform over a's label, redrawn while it is a copy of a's drawing.
  p = order[starts[la] + rng.integers(0, counts[la])]
  bad = np.flatnonzero(drawing[p] == drawing[a])
  while len(bad):
    p[bad] = order[starts[la[bad]] + rng.integers(0, counts[la[bad]])]
    bad = bad[drawing[p[bad]] == drawing[a[bad]]]
  # n: uniform over the items outside a's label.
  k = rng.integers(0, size - counts[la])
  n = order[np.where(k < starts[la], k, k + counts[la])]
  return a, p, n


TRIPLET_CHUNK = 16384


@jax.jit
def _closer(x, a, p, n):
  """x: [I, D]; a, p, n: [T] (T a multiple of TRIPLET_CHUNK) -> [T]
  ||x_a - x_p|| < ||x_a - x_n||, in chunks."""
  def chunk(idx):
    xa = x[idx[0]]
    return (jnp.sum(jnp.square(xa - x[idx[1]]), -1)
            < jnp.sum(jnp.square(xa - x[idx[2]]), -1))
  split = lambda i: i.reshape(-1, TRIPLET_CHUNK)
  return jax.lax.map(chunk, (split(a), split(p), split(n))).reshape(-1)


def ordered_triplets(item_emb: np.ndarray, item_label: np.ndarray,
                     num_triplets: int, seed: int,
                     item_drawing: np.ndarray = None) -> np.ndarray:
  """[T] bool: ||a - p|| < ||a - n|| for the triplets sample_triplets draws."""
  a, p, n = sample_triplets(item_label, num_triplets, seed, item_drawing)
  t = -(-bucket(num_triplets) // TRIPLET_CHUNK) * TRIPLET_CHUNK
  pad = lambda i: _padded(i, t).astype(np.int32)
  x = _padded(np.asarray(item_emb, np.float32),
              pow2(len(item_emb), GATHER_ROWS))
  return np.asarray(_closer(x, pad(a), pad(p), pad(n)))[:num_triplets]


def ordered_triplet_fraction(item_emb: np.ndarray, item_label: np.ndarray,
                             num_triplets: int, seed: int,
                             item_drawing: np.ndarray = None) -> float:
  """Fraction of evaluation triplets (a, p, n) with ||a - p|| < ||a - n||,
  estimated from `num_triplets` drawn uniformly from all triplets
  (sample_triplets). 1.0 for an encoder that meets Theorem 1's premise with
  m < 0; 0.5 is chance. item_emb: [I, D]; item_label, item_drawing: [I]."""
  return float(np.mean(ordered_triplets(item_emb, item_label, num_triplets,
                                        seed, item_drawing)))


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
  far, near = distance_extremes(item_emb, offsets)  # [I, G]
  m_here = _margin(far, near, item_label[:, None] == group_label[None, :])
  m = m_here if margin_m is None else float(margin_m)
  max_between = np.maximum.reduceat(far, np.asarray(offsets[:-1]), axis=0)
  diff = group_label[:, None] != group_label[None, :]
  tightest = np.where(diff, max_between, np.inf).min(1)  # [G], over N
  i, j = np.triu_indices(g, 1)
  keep = group_label[i] == group_label[j]
  i, j = i[keep], j[keep]
  bound = 2 * np.maximum(m, np.minimum(tightest[i], tightest[j]))
  d = np.linalg.norm(np.asarray(group_emb, np.float64)[i] - group_emb[j],
                     axis=1)
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


ITEM_TILE = 4096


@jax.jit
def _nearest_group_tile(items, groups, group_label, loo, loo_group,
                        item_label):
  """[R] whether each item's nearest group has its label. items: [R, D],
  groups: [G, D] (both centred; group_label -1: padding); loo: [R, K, D]
  groups re-pooled without the item, which replace groups loo_group [R, K]
  (G: none)."""
  d = (jnp.sum(items * items, -1)[:, None] + jnp.sum(groups * groups, -1)
       - 2 * items @ groups.T)  # [R, G]
  d_loo = jnp.sum(jnp.square(items[:, None, :] - loo), -1)  # [R, K]
  d = d.at[jnp.arange(len(items))[:, None], loo_group].set(d_loo,
                                                          mode="drop")
  d = jnp.where(group_label >= 0, d, jnp.inf)
  return group_label[jnp.argmin(d, 1)] == item_label


def _drawing_partners(item_group, item_image, item_label, num_groups):
  """For each item, the members that hold its drawing (its own group's and,
  with rotation groups, its rotated copies), the first in position order
  per group (a group is re-pooled once): (partner [I, K] member positions,
  partner_group [I, K], num_groups where there is none)."""
  size = len(item_image)
  by_image = np.lexsort((np.arange(size), item_image))
  run_start = np.r_[0, np.flatnonzero(np.diff(item_image[by_image])) + 1]
  run_len = np.diff(np.r_[run_start, size])
  start, length = np.empty(size, np.int64), np.empty(size, np.int64)
  start[by_image] = np.repeat(run_start, run_len)
  length[by_image] = np.repeat(run_len, run_len)
  k = np.arange(run_len.max())
  partner = by_image[np.minimum(start[:, None] + k, size - 1)]  # [I, K]
  partner_group = np.where(
      (k < length[:, None]) & (item_label[partner] == item_label[:, None]),
      item_group[partner], num_groups)
  again = ((partner_group[:, :, None] == partner_group[:, None, :])
           & (k[:, None] > k[None, :])).any(2)
  partner_group[again] = num_groups
  return partner, partner_group


def item_to_group_correct(item_emb: np.ndarray, item_group: np.ndarray,
                          item_image: np.ndarray, group_emb: np.ndarray,
                          group_label: np.ndarray, leave_out) -> np.ndarray:
  """[I] bool: whether each item's nearest group embedding has its label
  (item_to_group_accuracy's decisions)."""
  size, dim, g = len(item_emb), item_emb.shape[1], len(group_emb)
  item_label = group_label[item_group]
  loo = np.zeros((size, dim), np.float32)  # loo[j]: j's group without j
  for k in range(g):
    members = np.flatnonzero(item_group == k)
    if len(members):
      loo[members] = leave_out(k)
  gp = pow2(g, 128)
  partner, partner_group = _drawing_partners(item_group, item_image,
                                             item_label, gp)
  centre = np.asarray(group_emb, np.float64).mean(0)
  items, loo = _centred(item_emb, centre), _centred(loo, centre)
  groups = jnp.asarray(_padded(_centred(group_emb, centre), gp))
  labels = jnp.asarray(_padded(group_label, gp, -1).astype(np.int32))
  tile = lambda a, lo, hi, fill=0: _padded(a[lo:hi], ITEM_TILE, fill)
  out = [_nearest_group_tile(
      tile(items, lo, hi), groups, labels,
      tile(loo[partner[lo:hi]], 0, hi - lo),
      tile(partner_group, lo, hi, gp).astype(np.int32),
      tile(item_label, lo, hi, -2).astype(np.int32))
         for lo, hi in _tiles(size, ITEM_TILE)]
  return np.concatenate([np.asarray(o) for o in out])[:size]


def item_to_group_accuracy(item_emb: np.ndarray, item_group: np.ndarray,
                           item_image: np.ndarray, group_emb: np.ndarray,
                           group_label: np.ndarray, leave_out) -> float:
  """Fraction of items whose nearest group embedding has the item's label.

  Everything is in the evaluated embedding space; nearest = smallest
  Euclidean distance there. Every group of the item's label that holds a
  drawing of the item (its own group, and with rotation groups the groups of
  its rotated copies) is re-pooled without that drawing: leave_out(g) ->
  [M_g, D], row k = group g pooled without member k. item_emb: [I, D],
  item_group / item_image: [I], group_emb: [G, D], group_label: [G].
  """
  return float(np.mean(item_to_group_correct(
      item_emb, item_group, item_image, group_emb, group_label, leave_out)))


# --------------------------------------------------------------------------
# The disjoint-character protocol's group-size curve.
# --------------------------------------------------------------------------
def t_within(t: float, df: int) -> float:
  """P(|T| < t) for Student's t with integer df, in closed form (Abramowitz
  and Stegun 26.7.3 and 26.7.4)."""
  theta = math.atan(t / math.sqrt(df))
  s, c2 = math.sin(theta), math.cos(theta) ** 2
  if df % 2 == 0:
    term = total = 1.0
    for k in range(1, df // 2):
      term *= c2 * (2 * k - 1) / (2 * k)
      total += term
    return s * total
  term, total = math.cos(theta), 0.0
  for k in range(1, (df - 1) // 2 + 1):
    total += term
    term *= c2 * 2 * k / (2 * k + 1)
  return 2 / math.pi * (theta + s * total)


def t_quantile_975(df: int) -> float:
  """The 97.5 % quantile of Student's t with integer df (bisection on
  t_within; scipy.stats.t.ppf(0.975, df) to ~1e-15, without importing
  scipy, a second of an evaluation)."""
  lo, hi = 0.0, 1.0
  while t_within(hi, df) < 0.95:
    lo, hi = hi, 2 * hi
  while True:
    mid = (lo + hi) / 2
    if mid in (lo, hi):
      return hi
    lo, hi = (mid, hi) if t_within(mid, df) < 0.95 else (lo, mid)


def t_interval(values) -> Dict:
  """Mean and half-width of the 95% t-interval (n - 1 degrees of freedom)."""
  v = np.asarray(values, np.float64)
  half = (float(t_quantile_975(len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
          if len(v) > 1 else float("nan"))
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
                     embed_groups: Callable) -> Dict:
  """Recall@1 and the note's ratio against drawings per group.

  Per resample r: the characters of each alphabet are cut into `sets`
  disjoint sets (seed (seed, r)); for each n in sizes a group is n drawings of
  one set drawn at random (seed (seed, r, n); all of them when n == 0 or the
  set has fewer). embed_groups(list of [n_g] item indices) -> [G, D] group
  embeddings, called once with the groups of every resample and size.
  item_alphabet / item_character: [I] (upright drawings).
  Returns {"1": {"recall_at_1": t_interval, "ratio": t_interval}, ..., "all"}.
  """
  chosen, cells = [], []  # cells: (n, labels, first row in chosen)
  for r in range(resamples):
    members, labels = charset_groups(item_alphabet, item_character, sets,
                                     (seed, r))
    for n in sizes:
      rng = np.random.default_rng([seed, r, n])
      cells.append((n, labels, len(chosen)))
      chosen += [m if n == 0 or len(m) <= n
                 else np.sort(rng.choice(m, n, replace=False))
                 for m in members]
  emb = np.asarray(embed_groups(chosen))
  per_size = {n: {"recall_at_1": [], "ratio": []} for n in sizes}
  for n, labels, lo in cells:
    e = emb[lo:lo + len(labels)]
    per_size[n]["recall_at_1"].append(
        group_retrieval(e, labels)["recall_at_1"])
    per_size[n]["ratio"].append(distance_stats(e, labels)["ratio"])
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


EPISODE_TILE = 250
# Episodes are padded to at least these ways and shots: one program serves
# the usual 5- and 20-way, 1- and 5-shot settings.
MIN_WAYS, MIN_SHOTS = 20, 5


@jax.jit
def _episode_tile(x, support, support_mask, query, way_mask):
  """x: [I, D]; support: [E, N, K] item indices (support_mask [E, N, K]),
  query: [E, N, Q] (way_mask [E, N]: the episode's classes) -> [E, N, Q]
  whether each query's nearest centroid prototype is its class."""
  w = support_mask.astype(x.dtype)[..., None]
  protos = jnp.sum(w * x[support], 2) / jnp.maximum(jnp.sum(w, 2), 1)
  centre = jnp.sum(jnp.where(way_mask[..., None], protos, 0), 1,
                   keepdims=True) / jnp.maximum(
                       jnp.sum(way_mask, 1), 1)[:, None, None]
  protos, q = protos - centre, x[query] - centre[:, :, None]  # [E, N(, Q), D]
  d = (jnp.sum(q * q, -1)[..., None]
       - 2 * jnp.einsum("enqd,ekd->enqk", q, protos)
       + jnp.sum(protos * protos, -1)[:, None, None, :])
  d = jnp.where(way_mask[:, None, None, :], d, jnp.inf)
  return jnp.argmin(d, -1) == jnp.arange(support.shape[1])[None, :, None]


def fewshot_correct(item_emb: np.ndarray, item_class: np.ndarray,
                    settings, queries: int = 5, episodes: int = 1000,
                    seed: int = 0) -> list:
  """[E, N, Q] bool for each (N, K) of `settings`: each query's decision in
  fewshot_accuracy's episodes."""
  x = jnp.asarray(_padded(np.asarray(item_emb, np.float32),
                          pow2(len(item_emb), GATHER_ROWS)))
  ways_pad = max([MIN_WAYS] + [pow2(n) for n, _ in settings])
  shots_pad = max([MIN_SHOTS] + [pow2(k) for _, k in settings])

  def pad(a):  # [e, N, ...] -> [EPISODE_TILE, ways_pad, ...]
    return np.pad(a, [(0, EPISODE_TILE - len(a)), (0, ways_pad - a.shape[1])]
                  + [(0, 0)] * (a.ndim - 2))

  out = []
  for ways, shots in settings:
    s, q = sample_episodes(item_class, ways, shots, queries, episodes, seed)
    s = np.pad(s, [(0, 0), (0, 0), (0, shots_pad - shots)])
    s_mask = np.broadcast_to(np.arange(shots_pad) < shots, s.shape)
    tiles = [_episode_tile(
        x, pad(s[lo:hi]).astype(np.int32), pad(s_mask[lo:hi]),
        pad(q[lo:hi]).astype(np.int32), pad(np.ones((hi - lo, ways), bool)))
             for lo, hi in _tiles(episodes, EPISODE_TILE)]
    out.append((ways, tiles))
  return [np.concatenate([np.asarray(t) for t in tiles])[:episodes, :ways]
          for ways, tiles in out]


def fewshot_accuracies(item_emb: np.ndarray, item_class: np.ndarray,
                       settings, queries: int = 5, episodes: int = 1000,
                       seed: int = 0) -> list:
  """fewshot_accuracy for each (N, K) of `settings`, in one pass."""
  out = []
  for correct in fewshot_correct(item_emb, item_class, settings, queries,
                                 episodes, seed):
    acc = correct.mean(axis=(1, 2), dtype=np.float64)
    out.append({"mean": float(acc.mean()),
                "ci95": float(1.96 * acc.std(ddof=1) / np.sqrt(len(acc))),
                "episodes": int(episodes)})
  return out


def fewshot_accuracy(item_emb: np.ndarray, item_class: np.ndarray, ways: int,
                     shots: int, queries: int = 5, episodes: int = 1000,
                     seed: int = 0) -> Dict:
  """N-way K-shot accuracy with centroid prototypes (squared Euclidean),
  `episodes` episodes of `queries` queries per class (sample_episodes).

  Returns the mean over episodes and the half-width of its 95% CI.
  """
  return fewshot_accuracies(item_emb, item_class, [(ways, shots)], queries,
                            episodes, seed)[0]


def nearest_neighbour_error(test_emb: np.ndarray, train_emb: np.ndarray,
                            test_label: np.ndarray) -> float:
  """Lake et al.'s one-shot rule: each test item takes the class of the
  nearest training item (row j of train_emb is class j). Returns the error."""
  pred = np.argmin(pairwise_distances(test_emb, train_emb), axis=1)
  return float(np.mean(pred != test_label))
