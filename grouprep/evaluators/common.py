"""What every evaluator reads: an encoder's embeddings, once per split.

Every metric is taken in the space the method's loss compares embeddings in
(`Method.embedding_space`): "unit" or "raw". An item is unit(f(x)) or f(x).
A group is what the loss computes: unit(pool(raw items)) for methods that
pool in the loss (the group-contrastive family), pool(items in the space) for
methods that pool only at evaluation, with the config's pooling, the encoder
in eval mode.
"""
import functools
from typing import Callable, Dict

import jax
import numpy as np

from grouprep import losses
from grouprep import pooling
from grouprep.data import groups as groups_lib
from grouprep.data.sampler import gather_images


# --------------------------------------------------------------------------
# The encoder.
# --------------------------------------------------------------------------
def make_apply_fn(model):
  """jit((variables, images [B, S, S, 1]) -> [B, D]), the encoder in eval mode."""
  return jax.jit(lambda v, x: model.apply(v, x, train=False))


def make_embed_fn(model, variables, batch_size: int, apply=None):
  """images [N, S, S, 1] float -> embeddings [N, D], in fixed-size batches.

  apply: a make_apply_fn(model) to reuse (one compilation across variables).
  """
  apply = apply or make_apply_fn(model)

  def embed(x: np.ndarray) -> np.ndarray:
    out = []
    for lo in range(0, len(x), batch_size):
      chunk = x[lo:lo + batch_size]
      pad = batch_size - len(chunk)  # one shape, one compilation
      if pad:
        chunk = np.concatenate([chunk, np.zeros((pad,) + chunk.shape[1:],
                                                chunk.dtype)])
      out.append(np.asarray(apply(variables, chunk))[:batch_size - pad])
    return np.concatenate(out)

  return embed


def embed_groups(embed, images: np.ndarray,
                 groups: groups_lib.Groups, batch_size: int) -> np.ndarray:
  """Embeddings of every item of `groups`, in group order: [I, D]."""
  n = len(groups.item_image)
  return np.concatenate([
      embed(gather_images(images, groups,
                          np.arange(lo, min(lo + batch_size, n))))
      for lo in range(0, n, batch_size)])


def sample_items(groups: groups_lib.Groups, total: int, seed: int):
  """A seeded sample of about `total` items spread evenly over the groups
  (all items if total == 0), in group order: (positions [I'], offsets
  [G + 1] of the groups within the sample)."""
  per_group = max(1, total // groups.num_groups) if total else 0
  rng = np.random.default_rng(seed)
  keep = []
  for g in range(groups.num_groups):
    idx = groups.members(g)
    if 0 < per_group < len(idx):
      idx = np.sort(rng.choice(idx, per_group, replace=False))
    keep.append(idx)
  sub = np.concatenate(keep)
  sizes = np.bincount(groups.item_group[sub], minlength=groups.num_groups)
  return sub, np.r_[0, np.cumsum(sizes)]


# --------------------------------------------------------------------------
# The method's embedding space.
# --------------------------------------------------------------------------
_unit = jax.jit(losses.l2_normalize)


def unit(x) -> np.ndarray:
  """Rows scaled to norm 1: losses.l2_normalize, as the cosine losses do."""
  return np.asarray(_unit(np.asarray(x, np.float32)))


def _bucket(m: int) -> int:
  """Padded group size for leave-one-out: few shapes, few compilations."""
  return max(8, 1 << (m - 1).bit_length())


@functools.lru_cache(maxsize=None)
def _jitted(kind: str, pool_name: str) -> Callable:
  """The jitted pooling (kind "pool") or leave-one-out (kind "leave_out")
  with the parameters as an argument: one compilation per shape serves
  every encoder evaluated in the process (trained, untrained, periodic)."""
  make = pooling.get_pooling if kind == "pool" else pooling.leave_one_out
  return jax.jit(lambda x, params, mask=None: make(pool_name, params)(x, mask))


class Space:
  """Items and groups as the method's loss sees them.

  items(raw [I, D]) -> [I, D] in the space; pool_input(raw) -> what the
  pooling reads (raw items if the loss pools raw items, else items in the
  space); groups(pool_input, member lists) -> [G, D] in the space;
  leave_out(members [M, D] of pool_input) -> [M, D], row k the group pooled
  without member k (pooling.leave_one_out), in the space.
  """

  def __init__(self, name: str, pools_in_loss: bool, pool_name: str,
               pool_params=None):
    self.name, self.pools_in_loss = name, pools_in_loss
    pooling.get_pooling(pool_name, pool_params)  # a clear error up front
    self._pool_name, self._params = pool_name, pool_params

  # Shapes are not padded to buckets: XLA's row reductions round differently
  # for different row counts (vectorised across rows or along them).
  def _pool(self, stack):
    return _jitted("pool", self._pool_name)(stack, self._params)

  def _leave_out(self, padded, mask):
    return _jitted("leave_out", self._pool_name)(padded, self._params, mask)

  @classmethod
  def of(cls, method, pool_name: str, head=None) -> "Space":
    """The space of a Method, its pooling params read from `head`."""
    return cls(method.embedding_space, method.pools_in_loss, pool_name,
               method.pooling_params(head if head is not None else {}))

  def items(self, raw):
    """Item embeddings [I, D] in the space ("unit" or "raw")."""
    return unit(raw) if self.name == "unit" else np.asarray(raw, np.float32)

  def pool_input(self, raw):
    return np.asarray(raw, np.float32) if self.pools_in_loss \
        else self.items(raw)

  def _post(self, pooled):
    return self.items(pooled) if self.pools_in_loss else pooled

  def groups(self, pool_input, members) -> np.ndarray:
    """Groups of equal size are pooled in one call ([G_n, n, D])."""
    out = np.zeros((len(members), pool_input.shape[1]), np.float32)
    sizes = np.array([len(m) for m in members])
    for n in np.unique(sizes):
      rows = np.flatnonzero(sizes == n)
      stack = pool_input[np.stack([members[r] for r in rows])]
      out[rows] = np.asarray(self._pool(stack))
    return self._post(out)

  def leave_out(self, members_emb):
    m, d = members_emb.shape
    padded = np.zeros((_bucket(m), d), np.float32)
    padded[:m] = members_emb
    mask = np.arange(len(padded)) < m
    return self._post(np.asarray(self._leave_out(padded, mask))[:m])


# --------------------------------------------------------------------------
# What the evaluators of one split read.
# --------------------------------------------------------------------------
class SplitView:
  """One split through one encoder, embedded once for every evaluator.

  data, groups: pipeline.eval_groups(config, name); raw [I, D] the item
  embeddings in group order; items [I, D] in the space; pool_input [I, D];
  members: each group's item positions; group_emb [G, D] (pooled on first
  use), labels [G] the groups' classes.
  """

  def __init__(self, name: str, data, groups, raw: np.ndarray, space: Space):
    self.name, self.data, self.groups, self.space = name, data, groups, space
    self.raw = raw
    self.items = space.items(raw)
    self.labels = groups.group_class

  @functools.cached_property
  def pool_input(self) -> np.ndarray:
    return self.space.pool_input(self.raw)

  @functools.cached_property
  def members(self):
    return [self.groups.members(g) for g in range(self.groups.num_groups)]

  @functools.cached_property
  def group_emb(self) -> np.ndarray:
    return self.space.groups(self.pool_input, self.members)


class EncoderView:
  """One encoder under evaluation: config, embed(images float [N, S, S, 1])
  -> raw [N, D], its Space, and inputs (data loaded once for every encoder:
  evaluate.Inputs). `cache` keeps what an evaluator computes once per
  encoder for the others (Theorem 1's margin)."""

  def __init__(self, config, embed: Callable, space: Space, inputs):
    self.config, self.embed, self.space, self.inputs = (config, embed, space,
                                                        inputs)
    self.cache: Dict = {}

  def once(self, key: str, compute: Callable):
    if key not in self.cache:
      self.cache[key] = compute()
    return self.cache[key]

  def split(self, name: str) -> SplitView:
    data, groups = self.inputs.split(name)
    raw = embed_groups(self.embed, data.images, groups,
                       self.config.eval.batch_size)
    return SplitView(name, data, groups, raw, self.space)
