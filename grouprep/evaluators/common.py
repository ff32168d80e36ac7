"""What every evaluator reads: an encoder's embeddings, once per split
(SplitView), and the encoder under evaluation (EncoderView). The encoder
itself, its space and its pooling are grouprep/encoder.py's."""
import functools
from typing import Callable, Dict

import numpy as np

from grouprep import encoder as encoder_lib
from grouprep.data import groups as groups_lib
from grouprep.errors import ConfigError


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
# What the evaluators of one split read.
# --------------------------------------------------------------------------
class SplitView:
  """One split through one encoder, embedded once for every evaluator.

  data: the split's SplitData (data/sources/interface.py); groups: its
  groups; raw [I, D] the item embeddings in group order; items [I, D] in the
  space; pool_input [I, D]; members: each group's item positions; group_emb
  [G, D] (pooled on first use), labels [G] the groups' classes.
  """

  def __init__(self, data, raw: np.ndarray, space: encoder_lib.Space):
    self.name, self.data, self.groups = data.name, data, data.groups
    self.space, self.raw = space, raw
    self.items = space.items(raw)
    self.labels = self.groups.group_class

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
  """One encoder under evaluation: embed(images float [N, S, S, 1]) -> raw
  [N, D], batch_size images at a time; its Space; inputs (data loaded once
  for every encoder: evaluate.Inputs); seed, the run's, which seeds every
  evaluator's draws. `cache` keeps what an evaluator computes once per
  encoder for the others (Theorem 1's margin)."""

  def __init__(self, embed: Callable, space: encoder_lib.Space, inputs,
               seed: int, batch_size: int):
    self.embed, self.space, self.inputs = embed, space, inputs
    self.seed, self.batch_size = seed, batch_size
    self.cache: Dict = {}

  def once(self, key: str, compute: Callable):
    if key not in self.cache:
      self.cache[key] = compute()
    return self.cache[key]

  def split(self, name: str) -> SplitView:
    data = self.inputs.split(name)
    raw = encoder_lib.embed_groups(self.embed, data.images, data.groups,
                                   self.batch_size)
    return SplitView(data, raw, self.space)


def check(ok: bool, field: str, value, must: str) -> None:
  """A ConfigError naming config.<field> unless ok: it `must` be ..."""
  if not ok:
    raise ConfigError(f"config.{field}={value!r} must be {must}.")


def is_int(value, least: int) -> bool:
  return isinstance(value, int) and not isinstance(value, bool) and \
      value >= least
