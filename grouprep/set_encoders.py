"""Set Transformer blocks (Lee et al., ICML 2019) as pure functions.

Items of a set attend to each other before they are pooled:

  Multihead(Q, K, V) = concat_h softmax(Q W_h^Q (K W_h^K)^T / sqrt(E)) V W_h^V
                       then W^O                        (E = D / heads)
  MAB(X, Y) = LN(H + rFF(H)),  H = LN(X + Multihead(X, Y, Y))
  SAB(X)    = MAB(X, X)                         [..., M, D] -> [..., M, D]
  ISAB(X)   = MAB(X, MAB(I, X)), I: m learned inducing points (O(M m))
  PMA_k(Z)  = MAB(S, rFF(Z)), S: k learned seed vectors  -> [..., k, D]

rFF(H) = relu(H W + b), one row-wise layer as in the authors' code; LN is
optional (`layer_norm`, off in the authors' code by default). Where the
authors' PyTorch code (juho-lee/set_transformer, modules.py) differs, this
follows the paper's equations: the residual adds X (theirs: the projected
queries), the scale is the head width E (theirs: D), there is an output map
W^O and no bias in the Q/K/V maps (theirs: no W^O, biases), and PMA reads
rFF(Z) (theirs: Z). Weights start N(0, 1/fan_in), biases 0, inducing points
and seeds N(0, 1/D) (theirs: PyTorch's uniform Linear default, about 1/1.7
of this spread, and Xavier-uniform I and S). Every function
takes `mask [..., M]` (True: the item is in the set): masked items are never
attended to, so a padded set gives the same output as the set itself (a set
with no present item pools to NaN, as the centroid's 0 / 0 does).

The architecture is read from the parameter tree (a block with
"inducing" is an ISAB, heads are the leading axis of the query map, a block
with "ln0" has layer norm), so a checkpoint's parameters are the whole
spec and the pooling needs no config to run (pooling.POOLINGS).
"""
import math
from typing import Optional

import jax
import jax.numpy as jnp

BLOCKS = ("sab", "isab")
# The group pooling's defaults (config.loss.set_transformer overrides them):
# two SABs and a one-seed PMA, 4 heads, no layer norm.
DEFAULTS = dict(block="sab", num_blocks=2, heads=4, inducing_points=16,
                seeds=1, layer_norm=False)


def _dense(rng, fan_in, shape):
  return jax.random.normal(rng, shape) / math.sqrt(fan_in)


def init_mab(rng: jax.Array, dim: int, heads: int,
             layer_norm: bool = False) -> dict:
  """Parameters of one MAB of width `dim` with `heads` heads."""
  if dim % heads:
    raise ValueError(f"A Set Transformer block of width {dim} cannot have "
                     f"{heads} heads: the heads must divide the width.")
  e = dim // heads
  kq, kk, kv, ko, kf = jax.random.split(rng, 5)
  params = {"query": _dense(kq, dim, (heads, dim, e)),
            "key": _dense(kk, dim, (heads, dim, e)),
            "value": _dense(kv, dim, (heads, dim, e)),
            "out": _dense(ko, dim, (dim, dim)),
            "ff": {"w": _dense(kf, dim, (dim, dim)), "b": jnp.zeros(dim)}}
  if layer_norm:
    for name in ("ln0", "ln1"):
      params[name] = {"scale": jnp.ones(dim), "bias": jnp.zeros(dim)}
  return params


def _layer_norm(x, params):
  if params is None:
    return x
  mean = jnp.mean(x, -1, keepdims=True)
  var = jnp.mean(jnp.square(x - mean), -1, keepdims=True)
  return (x - mean) / jnp.sqrt(var + 1e-5) * params["scale"] \
      + params["bias"]


def _rff(x, params):
  return jax.nn.relu(x @ params["w"] + params["b"])


def multihead(queries: jax.Array, keys: jax.Array, params: dict,
              key_mask: Optional[jax.Array] = None) -> jax.Array:
  """Multi-head attention of queries [..., N, D] over keys (and values)
  [..., M, D]; key_mask [..., M] hides keys. -> [..., N, D]."""
  e = params["query"].shape[-1]
  q = jnp.einsum("...nd,hde->...hne", queries, params["query"])
  k = jnp.einsum("...md,hde->...hme", keys, params["key"])
  v = jnp.einsum("...md,hde->...hme", keys, params["value"])
  logits = jnp.einsum("...hne,...hme->...hnm", q, k) / math.sqrt(e)
  if key_mask is not None:
    # The lowest finite float, not -inf: a set with no present key then
    # attends uniformly (a finite row) instead of giving NaN, whose
    # gradient would reach every parameter even where the row is unused.
    logits = jnp.where(key_mask[..., None, None, :], logits,
                       jnp.finfo(logits.dtype).min)
  heads = jnp.einsum("...hnm,...hme->...hne", jax.nn.softmax(logits, -1), v)
  heads = jnp.moveaxis(heads, -3, -2)  # [..., N, H, E]
  return heads.reshape(heads.shape[:-2] + (-1,)) @ params["out"]


def mab(x: jax.Array, y: jax.Array, params: dict,
        y_mask: Optional[jax.Array] = None) -> jax.Array:
  """MAB(X [..., N, D], Y [..., M, D]) -> [..., N, D]."""
  h = _layer_norm(x + multihead(x, y, params, y_mask), params.get("ln0"))
  return _layer_norm(h + _rff(h, params["ff"]), params.get("ln1"))


def _broadcast(learned, like):
  """Learned rows [k, D] repeated over the batch dims of like [..., M, D]."""
  return jnp.broadcast_to(learned, like.shape[:-2] + learned.shape)


def init_sab(rng, dim, heads, layer_norm=False) -> dict:
  return init_mab(rng, dim, heads, layer_norm)


def sab(x: jax.Array, params: dict,
        mask: Optional[jax.Array] = None) -> jax.Array:
  """SAB: each item attends to every item of its set. [..., M, D]."""
  return mab(x, x, params, mask)


def init_isab(rng, dim, heads, inducing_points, layer_norm=False) -> dict:
  k0, k1, k2 = jax.random.split(rng, 3)
  return {"inducing": _dense(k0, dim, (inducing_points, dim)),
          "to_inducing": init_mab(k1, dim, heads, layer_norm),
          "from_inducing": init_mab(k2, dim, heads, layer_norm)}


def isab(x: jax.Array, params: dict,
         mask: Optional[jax.Array] = None) -> jax.Array:
  """ISAB: the items attend to m inducing points that attended to them.
  [..., M, D]."""
  h = mab(_broadcast(params["inducing"], x), x, params["to_inducing"], mask)
  return mab(x, h, params["from_inducing"])


def init_pma(rng, dim, heads, seeds, layer_norm=False) -> dict:
  k0, k1, k2 = jax.random.split(rng, 3)
  return {"seeds": _dense(k0, dim, (seeds, dim)),
          "ff": {"w": _dense(k1, dim, (dim, dim)), "b": jnp.zeros(dim)},
          "mab": init_mab(k2, dim, heads, layer_norm)}


def pma(z: jax.Array, params: dict,
        mask: Optional[jax.Array] = None) -> jax.Array:
  """PMA_k: k learned seeds attend to the set. [..., M, D] -> [..., k, D]."""
  return mab(_broadcast(params["seeds"], z), _rff(z, params["ff"]),
             params["mab"], mask)


def encode(x: jax.Array, blocks, mask: Optional[jax.Array] = None):
  """The encoder: SABs / ISABs in order (each block's params say which).
  [..., M, D] -> [..., M, D]."""
  for block in blocks:
    x = isab(x, block, mask) if "inducing" in block else sab(x, block, mask)
  return x


def check_settings(settings, width: int) -> None:
  """Raises ValueError naming what in a pooling's settings (a dict or
  ConfigDict over DEFAULTS; None: the defaults) cannot run at item width
  `width` (a divisor of the item dimension)."""
  settings = dict(DEFAULTS, **(settings.to_dict() if hasattr(
      settings, "to_dict") else settings or {}))
  unknown = sorted(set(settings) - set(DEFAULTS))
  if unknown:
    raise ValueError(f"unknown field(s) {unknown}; the fields are "
                     f"{sorted(DEFAULTS)}.")
  if settings["block"] not in BLOCKS:
    raise ValueError(f"block={settings['block']!r} is not one of "
                     f"{list(BLOCKS)}.")
  for name, low in (("num_blocks", 0), ("heads", 1), ("seeds", 1),
                    ("inducing_points", 1)):
    value = settings[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
      raise ValueError(f"{name}={value!r} must be an integer >= {low}.")
  if not isinstance(settings["layer_norm"], bool):
    raise ValueError(f"layer_norm={settings['layer_norm']!r} must be True "
                     f"or False.")
  if width % settings["heads"]:
    raise ValueError(f"heads={settings['heads']} must divide the item "
                     f"width {width}.")


def init_pooling(rng: jax.Array, dim: int, *, block: str = "sab",
                 num_blocks: int = 2, heads: int = 4,
                 inducing_points: int = 16, seeds: int = 1,
                 layer_norm: bool = False) -> dict:
  """Parameters of `pooling`: num_blocks SABs or ISABs (`block`) of width
  dim, then a PMA with `seeds` seed vectors."""
  check_settings(dict(block=block, num_blocks=num_blocks, heads=heads,
                      inducing_points=inducing_points, seeds=seeds,
                      layer_norm=layer_norm), dim)
  keys = jax.random.split(rng, num_blocks + 1)
  if block == "sab":
    blocks = [init_sab(k, dim, heads, layer_norm) for k in keys[:-1]]
  else:
    blocks = [init_isab(k, dim, heads, inducing_points, layer_norm)
              for k in keys[:-1]]
  return {"blocks": blocks,
          "pma": init_pma(keys[-1], dim, heads, seeds, layer_norm)}


def pooling(items: jax.Array, params: dict,
            mask: Optional[jax.Array] = None) -> jax.Array:
  """A group from items that interact: PMA(encode(items)), its k seed outputs
  averaged. items [..., M, D], mask [..., M] -> [..., D]."""
  z = encode(items, params["blocks"], mask)
  out = jnp.mean(pma(z, params["pma"], mask), axis=-2)
  if mask is None:
    return out
  # A set with no present item has no group: NaN, as the centroid's 0 / 0
  # (its finite attention rows keep every gradient finite).
  return jnp.where(jnp.any(mask, -1, keepdims=True), out, jnp.nan)
