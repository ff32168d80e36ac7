"""The note's group-contrastive losses (seed §3.1, eqs. 2 and 3).

Each of the V groups (views) of a class is pooled into a group embedding;
every ordered pair of distinct views (a, b) contributes one InfoNCE term, so
V = 2 gives the symmetric a<->b loss. A learned pooling's parameters are the
method's head.

loss.candidates selects what an anchor is contrasted with:
- "batch": the C groups of view b pooled from the current batch (one per
  class); the positive is its own class's.
- "prototypes": the note's momentum group embeddings. The state holds one
  prototype per training group, P [K, D] (K = 120 for alphabet x rotation),
  initialised from the untrained encoder's pooled groups (eval mode: the
  untrained BatchNorm statistics; the first visits of a group move it
  towards the train-mode embeddings, see the prototype_batch_cosine
  monitor). Every step, each batch group's pooled embedding (in the loss's
  space: unit norm for cosine) enters the EMA, P_k <- beta P_k + (1 - beta)
  pooled_k (prototypes.ema_update, summed over the devices: every replica
  holds the same table); with cosine the moved rows are stored back on the
  unit sphere. Groups the sampler never draws keep their initial prototype. An anchor of class c
  (group_item: an item of view a; group_group: the pooled group of view a)
  has one positive, the freshly updated prototype of its class's view-b
  group, differentiable in the batch embeddings (the note's point); its
  negatives are the prototypes of every group of another class, constant;
  the other groups of its own class are masked out. Candidates: [K + C, D] =
  the constant table (classes group_class) and the C differentiable
  positives (class -1: a positive only), masked by losses.kept_candidates.
"""
import itertools

import jax
import jax.numpy as jnp

from grouprep import losses
from grouprep import pooling
from grouprep import prototypes as protos
from grouprep import set_encoders
from grouprep.errors import ConfigError
from grouprep.methods.interface import Method
from grouprep.methods.interface import space_of_similarity

CANDIDATES = ("batch", "prototypes")


def validate(config) -> None:
  """Checks shared by every loss that pairs two groups of a class."""
  if config.data.groups_per_class < 2:
    raise ConfigError(
        f"config.data.groups_per_class={config.data.groups_per_class} must be "
        f">= 2 for loss.name={config.loss.name!r} (it pairs two groups of a "
        f"class).")
  if config.loss.candidates not in CANDIDATES:
    raise ConfigError(f"config.loss.candidates={config.loss.candidates!r} is "
                      f"not one of {list(CANDIDATES)}.")
  if config.loss.pooling == "set_transformer":
    try:
      set_encoders.check_settings(config.loss.get("set_transformer"),
                                  config.model.embed_dim or config.model.width)
    except ValueError as e:
      raise ConfigError(f"config.loss.set_transformer: {e}") from None
  if config.loss.candidates == "prototypes" and \
      not 0.0 <= config.loss.prototype_momentum < 1.0:
    raise ConfigError(f"config.loss.prototype_momentum="
                      f"{config.loss.prototype_momentum} must be in [0, 1).")


def _in_space(x, similarity):
  """Pooled groups as the loss compares them (unit for cosine)."""
  return losses.l2_normalize(x) if similarity == "cosine" else x


def prototype_contrast_terms(anchors, anchor_class, positive_ids, table,
                             group_class, *, temperature, similarity,
                             streaming_above):
  """One view pair's loss against the prototype table.

  anchors: [C, M, D] (group_item) or [C, 1, D] (group_group), row c of class
  anchor_class[c]; positive_ids: [C] the view-b group of each row; table:
  [K, D] the updated prototypes (differentiable); group_class: [K].
  """
  c, m, d = anchors.shape
  k = table.shape[0]
  cands = jnp.concatenate([jax.lax.stop_gradient(table), table[positive_ids]])
  # The table's rows are negatives of every other class; the appended
  # differentiable rows (class -1) only positives, each of its own anchors.
  group_class = jnp.asarray(group_class)  # a NumPy int64 caller: int32
  cand_class = jnp.concatenate([group_class, -jnp.ones(c, group_class.dtype)])
  row = jnp.repeat(jnp.arange(c), m)  # [N]
  return losses.candidates_infonce(
      anchors.reshape(c * m, d), cands, k + row, jnp.repeat(anchor_class, m),
      cand_class, temperature=temperature, similarity=similarity,
      streaming=k + c > streaming_above)


def _over_view_pairs(cfg, anchors_of, batch_term) -> Method:
  """loss = mean over view pairs (a, b): anchors_of(z [C, V, M, D], groups
  [C, V, D], a) -> [C, M', D] against view b's candidates: batch_term(
  anchors, groups_b [C, D]) for "batch", the prototype table otherwise."""
  kwargs = dict(temperature=cfg.temperature, similarity=cfg.similarity)
  prototypes = cfg.candidates == "prototypes"

  def init(rng, encoder, dim, training):
    # A learned pooling's settings: the loss section named after it
    # (config.loss.set_transformer), if any.
    params = pooling.init_params(cfg.pooling, rng, dim, cfg.get(cfg.pooling))
    head = {"pool": params} if params is not None else {}
    if not prototypes:
      return head, {}
    if not len(training.group_class):  # no data (evaluation): no table
      return head, {"prototypes": jnp.zeros((0, dim)),
                    "group_class": jnp.zeros((0,), jnp.int32)}
    return head, {"prototypes": jnp.asarray(training.pooled(encoder, params)),
                  "group_class": jnp.asarray(training.group_class, jnp.int32)}

  def loss(head, state, batch):
    z = batch.z[0]  # [C, V, M, D]
    pool = pooling.get_pooling(cfg.pooling, head.get("pool"))
    groups = pool(z)  # [C, V, D]
    pairs = list(itertools.permutations(range(z.shape[1]), 2))
    if not prototypes:
      value = jnp.mean(jnp.stack([
          batch_term(anchors_of(z, groups, a), groups[:, b], **kwargs)
          for a, b in pairs]))
      return value, (state, {"loss": value})

    # The EMA of each batch group's pooled embedding, over every device.
    # This device's share of the batch is whole groups (C * V / n of them,
    # whole_groups_per_device), in the order of group_ids.reshape(-1).
    table = state["prototypes"]
    m, d = z.shape[2:]
    local = batch.z_local[0].reshape(-1, m, d)  # [C * V / n, M, D]
    lo = jax.lax.axis_index(batch.axis_name) * local.shape[0]
    local_ids = jax.lax.dynamic_slice_in_dim(batch.group_ids.reshape(-1), lo,
                                             local.shape[0])
    local = _in_space(pool(local), cfg.similarity)  # [C * V / n, D]
    updated = protos.ema_update(table, local, local_ids,
                                cfg.prototype_momentum,
                                axis_name=batch.axis_name)
    value = jnp.mean(jnp.stack([prototype_contrast_terms(
        anchors_of(z, groups, a), batch.labels, batch.group_ids[:, b],
        updated, state["group_class"], streaming_above=cfg.streaming_above,
        **kwargs) for a, b in pairs]))

    # Monitors: how far the batch's prototypes moved, and how close each
    # one was to its group's current pooled embedding before moving.
    ids = batch.group_ids.reshape(-1)
    new = jax.lax.stop_gradient(updated)
    if cfg.similarity == "cosine":  # the moved rows back on the sphere
      moved = jnp.zeros(new.shape[0], bool).at[ids].set(True)
      new = jnp.where(moved[:, None], losses.l2_normalize(new), new)
    pooled = jax.lax.stop_gradient(groups).reshape(-1, groups.shape[-1])
    drift = jnp.mean(jnp.linalg.norm(new[ids] - table[ids], axis=-1))
    cosine = jnp.mean(jnp.sum(losses.l2_normalize(table[ids]) *
                              losses.l2_normalize(pooled), -1))
    return value, (dict(state, prototypes=new),
                   {"loss": value, "prototype_drift": drift,
                    "prototype_batch_cosine": cosine})

  return Method(loss=loss, init=init, validate=validate,
                whole_groups_per_device=prototypes, pooling=cfg.pooling,
                pooling_params=lambda head: head.get("pool"),
                embedding_space=space_of_similarity(cfg.similarity))


def make_group_item(cfg) -> Method:
  """Items of view a against view b's group embeddings (seed eq. 3)."""
  return _over_view_pairs(cfg, lambda z, g, a: z[:, a],
                          losses.group_item_infonce)


def make_group_group(cfg) -> Method:
  """Group embeddings of view a against view b's (seed eq. 2)."""
  return _over_view_pairs(
      cfg, lambda z, g, a: g[:, a][:, None],
      lambda anchors, groups_b, **kw: losses.group_group_infonce(
          anchors[:, 0], groups_b, **kw))
