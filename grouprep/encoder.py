"""The encoder below training, evaluation and the API: its embedding space,
the jitted functions that embed images and pool groups, and restoring it
from a workdir.

  apply = make_apply_fn(model)                   # (variables, images) -> [B, D]
  embed = make_embed_fn(model, variables, 2048)  # images [N, S, S, 1] -> [N, D]
  space = Space.of(method, "centroid", head)     # items / groups in the space
  restored = restore(workdir, config)            # the latest checkpoint's

Every metric is taken in the space the method's loss compares embeddings in
(`Method.embedding_space`): "unit" or "raw". An item is unit(f(x)) or f(x).
A group is what the loss computes: unit(pool(raw items)) for methods that
pool in the loss (the group-contrastive family), pool(items in the space) for
methods that pool only at evaluation, with the config's pooling, the encoder
in eval mode. train.py (the prototype table's pass over the training
groups), evaluate.py and api.py (grouprep.load) all embed through here.
"""
import functools
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from grouprep import checkpoints
from grouprep import losses
from grouprep import metrics
from grouprep import models
from grouprep import pooling
from grouprep import state as state_lib
from grouprep.data import groups as groups_lib
from grouprep.data.sampler import gather_images
from grouprep.methods.interface import no_training_groups
from grouprep.methods.registry import get_method

# --------------------------------------------------------------------------
# The encoder.
# --------------------------------------------------------------------------
# XLA's CPU runtime takes a buffer above glibc's mmap threshold (32 MiB at
# most) fresh from the kernel on every call and faults its pages in: a third
# of the CPU time of a forward pass at 2048 x 28 x 28 (measured). On the CPU
# the encoder therefore runs on sub-batches whose largest array stays under
# this, in a loop inside the one call; each image's numbers are its own.
# 16 MiB (Conv-4 at 28 px: 64 images) ran 3-8 % faster than 30 MiB (128)
# on a 2-core Zen 4, with the same bits for Conv-4 and GroupFace's encoder.
CPU_BUFFER_BYTES = 16 << 20


def _largest_array_bytes(jaxpr) -> int:
  """The bytes of the largest array a jaxpr (and the jaxprs inside it)
  computes."""
  largest = 0
  for eqn in jaxpr.eqns:
    for v in eqn.outvars:
      aval = getattr(v, "aval", None)
      if hasattr(aval, "shape"):
        largest = max(largest, int(np.prod(aval.shape)) * aval.dtype.itemsize)
    for param in eqn.params.values():
      inner = getattr(param, "jaxpr", param)
      if hasattr(inner, "eqns"):
        largest = max(largest, _largest_array_bytes(inner))
  return largest


def sub_batch(fn, variables, images_shape, dtype=np.float32) -> int:
  """The images per step of the encoder fn(variables, images) in one call of
  images_shape [B, ...]: B off the CPU; on it, the largest power of two that
  divides B and keeps fn's largest array under CPU_BUFFER_BYTES."""
  b = images_shape[0]
  if jax.default_backend() != "cpu":
    return b
  spec = lambda a: jax.ShapeDtypeStruct(np.shape(a), a.dtype)
  one = jax.make_jaxpr(fn)(jax.tree.map(spec, variables),
                           jax.ShapeDtypeStruct((1,) + tuple(images_shape[1:]),
                                                dtype))
  per_image = max(_largest_array_bytes(one.jaxpr), 1)
  sub = 1
  while b % (2 * sub) == 0 and 2 * sub * per_image <= CPU_BUFFER_BYTES:
    sub *= 2
  return sub


def make_apply_fn(model):
  """(variables, images [B, S, S, 1]) -> [B, D], the encoder in eval mode,
  jitted (on the CPU in sub-batches of sub_batch images, in a loop)."""
  fn = lambda v, x: model.apply(v, x, train=False)

  @functools.partial(jax.jit, static_argnames="sub")
  def apply(variables, images, sub):
    if sub >= len(images):
      return fn(variables, images)
    steps = images.reshape((-1, sub) + images.shape[1:])
    out = jax.lax.map(lambda x: fn(variables, x), steps)
    return out.reshape((len(images),) + out.shape[2:])

  subs = {}

  def call(variables, images):
    if images.shape not in subs:
      subs[images.shape] = sub_batch(fn, variables, images.shape,
                                     images.dtype)
    return apply(variables, images, sub=subs[images.shape])

  return call


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


# --------------------------------------------------------------------------
# The method's embedding space.
# --------------------------------------------------------------------------
_unit = jax.jit(losses.l2_normalize)


def unit(x) -> np.ndarray:
  """Rows scaled to norm 1: losses.l2_normalize, as the cosine losses do
  (rows padded to a power of two: a few compilations serve every size)."""
  x = np.asarray(x, np.float32)
  padded = np.zeros((metrics.pow2(len(x), metrics.GATHER_ROWS),)
                    + x.shape[1:], np.float32)
  padded[:len(x)] = x
  return np.asarray(_unit(padded))[:len(x)]


def bucket(m: int) -> int:
  """A padded size: powers of two from 8, few shapes, few compilations."""
  return metrics.pow2(m, 8)


def _group_bucket(m: int) -> int:
  """A group's padded size: powers of two from 64 (a group of up to 64
  members pools at little more cost than one of 8)."""
  return metrics.pow2(m, 64)


def _normalized(x, normalize):
  """l2_normalize(x) where the traced bool `normalize`, else x: one
  compilation serves both spaces."""
  return jnp.where(normalize, losses.l2_normalize(x), x)


@functools.lru_cache(maxsize=None)
def _leave_out_fn(pool_name: str) -> Callable:
  """jit((members [M, D], params, mask [M], normalize) -> [M, D]): row k the
  group pooled without member k (pooling.leave_one_out), unit-normalised
  where `normalize`. The parameters are an argument: one compilation per
  shape serves every encoder evaluated in the process."""
  def leave_out(x, params, mask, normalize):
    return _normalized(pooling.leave_one_out(pool_name, params)(x, mask),
                       normalize)
  return jax.jit(leave_out)


@functools.lru_cache(maxsize=None)
def _pool_fn(pool_name: str) -> Callable:
  """jit((members [T, M, D], mask [T, M], params, normalize) -> [T, D]): the
  pooling, unit-normalised after where `normalize`."""
  def pool(members, mask, params, normalize):
    return _normalized(pooling.get_pooling(pool_name, params)(members, mask),
                       normalize)
  return jax.jit(pool)


def _tile_rows(m: int) -> int:
  """Groups of padded size m pooled per call: a medoid's [T, m, m] member
  distances stay within 4M floats (under XLA's CPU buffer threshold, see
  CPU_BUFFER_BYTES)."""
  return int(np.clip((1 << 22) // (m * m), 1, 512))


def pool_groups(x, members, pool_name: str, params=None,
                normalize: bool = False) -> np.ndarray:
  """[G, D]: group g pools x[members[g]] (x: [I, D]) with pooling
  `pool_name`, unit-normalised after if `normalize`. Each group is padded to
  _group_bucket(its size) and masked; groups of one padded size are pooled
  T at a time (_tile_rows), every tile dispatched before the first is
  read."""
  x = np.asarray(x, np.float32)
  sizes = np.array([len(m) for m in members])
  padded = np.array([_group_bucket(n) for n in sizes])
  out = np.zeros((len(members), x.shape[1]), np.float32)
  pending = []
  for m in np.unique(padded):
    rows = np.flatnonzero(padded == m)
    t = _tile_rows(m)
    for lo in range(0, len(rows), t):
      tile = rows[lo:lo + t]
      index = np.zeros((t, m), np.int64)
      mask = np.zeros((t, m), bool)
      for r, g in enumerate(tile):
        index[r, :sizes[g]], mask[r, :sizes[g]] = members[g], True
      mask[:, 0] |= ~mask.any(1)  # an empty (padding) row pools item 0
      pending.append((tile, _pool_fn(pool_name)(x[index], mask, params,
                                                normalize)))
  for tile, pooled in pending:
    out[tile] = np.asarray(pooled)[:len(tile)]
  return out


def group_centroids(items, offsets) -> np.ndarray:
  """[G, D] the centroid (pooling.centroid) of each group of items [I, D]
  sorted by group (offsets [G + 1])."""
  return pool_groups(items, [np.arange(lo, hi) for lo, hi in
                             zip(offsets[:-1], offsets[1:])], "centroid")


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

  @classmethod
  def of(cls, method, pool_name: str, head=None) -> "Space":
    """The space of a Method, its pooling params read from `head`."""
    return cls(method.embedding_space, method.pools_in_loss, pool_name,
               method.pooling_params(head if head is not None else {}))

  @property
  def pool_name(self) -> str:
    """The pooling's name (pooling.POOLINGS)."""
    return self._pool_name

  @property
  def pool_params(self):
    """The pooling's parameters (None unless it is learned)."""
    return self._params

  def items(self, raw):
    """Item embeddings [I, D] in the space ("unit" or "raw")."""
    return unit(raw) if self.name == "unit" else np.asarray(raw, np.float32)

  def pool_input(self, raw):
    return np.asarray(raw, np.float32) if self.pools_in_loss \
        else self.items(raw)

  @property
  def _normalize(self) -> bool:
    """Whether a pooled group is normalised after (the loss pools raw items
    and compares on the unit sphere)."""
    return self.pools_in_loss and self.name == "unit"

  def groups(self, pool_input, members) -> np.ndarray:
    """[G, D]: group g pools pool_input[members[g]] (pool_groups)."""
    return pool_groups(pool_input, members, self._pool_name, self._params,
                       self._normalize)

  def leave_out(self, members_emb):
    m, d = members_emb.shape
    padded = np.zeros((_group_bucket(m), d), np.float32)
    padded[:m] = members_emb
    mask = np.arange(len(padded)) < m
    out = _leave_out_fn(self._pool_name)(padded, self._params, mask,
                                         self._normalize)
    return np.asarray(out)[:m]


# --------------------------------------------------------------------------
# Restoring an encoder from a workdir.
# --------------------------------------------------------------------------
class Restored(NamedTuple):
  """The encoder of a checkpoint. config: the ConfigDict it is read under
  (the caller's, else the one saved with it); step; variables: the encoder's
  {"params", "batch_stats"}; head: the method's trainable head (a learned
  pooling's parameters); metadata: the checkpoint's (None before grouprep
  stored it); where: its folder; initial: state.initial of the config, the
  same encoder untrained (its head sized by the checkpoint's class count)."""
  config: Any
  step: int
  variables: dict
  head: Any
  metadata: Optional[dict]
  where: str
  initial: state_lib.Initial


def restore(workdir: str, config=None) -> Restored:
  """The latest readable checkpoint of workdir as an encoder: the one path
  evaluate and grouprep.load read checkpoints by.

  config: the config that reads it (evaluation: a checkpoint it may not
  evaluate, checkpoints.EVAL_IDENTITY_FIELDS, is refused), or None to read
  it under the config saved with it (grouprep.load). Either way the restored
  encoder (and head, where the checkpoint records its class count) must have
  the shapes the config's model builds. Raises checkpoints.CheckpointError
  when there is no readable checkpoint or it holds something else."""
  mngr = checkpoints.read_only_manager(workdir)  # this process reads alone
  try:
    if config is None:
      step, saved, state = checkpoints.restore_saved(mngr)
    else:
      step, state = checkpoints.restore_latest(
          mngr, None, config.to_dict(), checkpoints.EVAL_IDENTITY_FIELDS)
    if step is None:
      raise checkpoints.no_checkpoint(workdir)
    metadata = checkpoints.read_metadata(mngr, step)
  finally:
    mngr.close()
  where = str(mngr.directory)
  hint = "use the config that wrote it"
  if config is None:
    config = ml_collections.ConfigDict(saved)
    hint = ("it was not written by the model its own config describes "
            "(another model's state, or an edited checkpoint); retrain it")
  try:
    model = models.create_model(config.model)
    method = get_method(config.loss)
  except (ValueError, KeyError, AttributeError) as e:
    raise checkpoints.CheckpointError(
        f"The checkpoint at step {step} in {where} names a model or loss "
        f"this grouprep does not know ({e}); load it with the grouprep "
        f"version that wrote it.") from None
  size = int(config.data.image_size)
  num_classes = (metadata or {}).get("num_classes")
  initial = state_lib.initial(config.seed, model, method, (size, size, 1),
                              no_training_groups(num_classes or 1))
  variables = state_lib.encoder_variables(state)
  expected, got = {"encoder": initial.encoder}, {"encoder": variables}
  head = state["params"]["head"]
  # Older checkpoints (no class count) leave the head unchecked, and so does
  # a config that evaluates under another pooling than the one trained
  # (loss.pooling is not an identity field: a learned pooling's parameters
  # are then not the config's).
  if num_classes is not None and (
      jax.tree.structure(head) == jax.tree.structure(initial.head)):
    expected["head"], got["head"] = initial.head, head
  checkpoints.check_shapes(got, expected, where, step, hint=hint)
  return Restored(config, int(step), variables, state["params"]["head"],
                  metadata, where, initial)
