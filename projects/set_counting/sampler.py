"""Sets of Omniglot drawings and how many distinct characters each holds.

A set (our reading of Lee et al., 2019, section 5.2 and its appendix, which
we could not read; see the README): its size n ~ Uniform{6..10}, its number
of distinct characters c ~ Uniform{1..n}, c characters drawn without
replacement from the split's, every one of them present at least once and
the n - c further drawings given to the c characters uniformly at random; the
drawings of one character are distinct drawings (no drawing twice in a set).

Shapes: B sets, M = max_size slots per set (the first n present, the rest
padding: zeros with mask False), S x S pixels.
"""
from typing import NamedTuple, Optional, Sequence

import numpy as np

MIN_SIZE, MAX_SIZE = 6, 10


class Pool(NamedTuple):
  """The drawings a split offers: images [N, S, S] uint8 and, per
  character, the indices of its drawings in images."""
  images: np.ndarray
  members: Sequence[np.ndarray]


class Sets(NamedTuple):
  """images [B, M, S, S] uint8, mask [B, M] bool (True: a drawing),
  counts [B] int32 (distinct characters), characters [B, M] int32 (the
  pool's character index of each slot, -1 for padding)."""
  images: np.ndarray
  mask: np.ndarray
  counts: np.ndarray
  characters: np.ndarray


def make_pool(images: np.ndarray, character: np.ndarray,
              characters: Optional[np.ndarray] = None) -> Pool:
  """The pool of `characters` (default: every one in `character`, [N])."""
  if characters is None:
    characters = np.unique(character)
  order = np.argsort(character, kind="stable")
  starts = np.searchsorted(character[order], characters, side="left")
  ends = np.searchsorted(character[order], characters, side="right")
  members = [order[s:e] for s, e in zip(starts, ends)]
  return Pool(images, members)


def sample_sets(rng, pool: Pool, num_sets: int, min_size: int = MIN_SIZE,
                max_size: int = MAX_SIZE) -> Sets:
  """num_sets sets drawn from pool; rng: a seed (or a sequence of ints, e.g.
  [seed, step]) or a np.random.Generator. The same seed gives the same sets."""
  rng = np.random.default_rng(rng)
  fewest = min(len(m) for m in pool.members)
  if len(pool.members) < max_size or fewest < max_size:
    raise ValueError(
        f"A pool of {len(pool.members)} characters with at least {fewest} "
        f"drawings each cannot hold sets of up to {max_size} drawings: it "
        f"needs {max_size} characters of at least {max_size} drawings each.")
  index = np.zeros((num_sets, max_size), np.int64)
  chars = np.full((num_sets, max_size), -1, np.int32)
  mask = np.zeros((num_sets, max_size), bool)
  counts = np.zeros(num_sets, np.int32)
  for b in range(num_sets):
    n = int(rng.integers(min_size, max_size + 1))
    c = int(rng.integers(1, n + 1))
    picked = rng.choice(len(pool.members), c, replace=False)
    per_char = 1 + np.bincount(rng.integers(0, c, n - c), minlength=c)
    slot_chars = np.repeat(picked, per_char)
    slot_index = np.concatenate([
        rng.choice(pool.members[k], m, replace=False)
        for k, m in zip(picked, per_char)])
    order = rng.permutation(n)
    index[b, :n], chars[b, :n] = slot_index[order], slot_chars[order]
    mask[b, :n], counts[b] = True, c
  images = pool.images[index] * mask[:, :, None, None].astype(np.uint8)
  return Sets(images, mask, counts, chars)
