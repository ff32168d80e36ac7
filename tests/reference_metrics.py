"""The evaluation's slower implementations, kept as the reference the faster
ones must equal bit for bit (issue 14: evaluation changes are checked by
exact equality of metrics.json on a fixed checkpoint). Copied from
grouprep/metrics.py as of commit cd42c0a; not imported by grouprep."""
import numpy as np

from grouprep import metrics


def distance_extremes(item_emb, offsets, chunk=2048):
  x = np.asarray(item_emb, np.float32)
  starts = np.asarray(offsets[:-1])
  far, near = [], []
  for lo in range(0, len(x), chunk):
    d = metrics.pairwise_distances(x[lo:lo + chunk], x, dtype=np.float32)
    far.append(np.maximum.reduceat(d, starts, axis=1))
    near.append(np.minimum.reduceat(d, starts, axis=1))
  return np.concatenate(far), np.concatenate(near)


def ordered_triplet_fraction(item_emb, item_label, num_triplets, seed,
                             item_drawing=None, chunk=None):
  del chunk
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
  d_ap = np.linalg.norm(x[a] - x[p], axis=1)
  d_an = np.linalg.norm(x[a] - x[n], axis=1)
  return float(np.mean(d_ap < d_an))
