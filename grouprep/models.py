"""Item encoders f_theta(x): images [B, S, S, 1] -> embeddings [B, D]."""
from typing import Optional

import flax.linen as nn
import jax.numpy as jnp


def max_pool_2x2(x: jnp.ndarray) -> jnp.ndarray:
  """2x2 max-pool, stride 2, odd edges dropped. [B, H, W, C] -> [B, H/2, W/2, C].

  Same values as nn.max_pool(x, (2, 2), strides=(2, 2)); written as a reshape
  because XLA's CPU gradient of reduce_window (select-and-scatter) is ~1.5x
  slower for the whole Conv-4 step.
  """
  b, h, w, c = x.shape
  x = x[:, :h // 2 * 2, :w // 2 * 2]
  return x.reshape(b, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


class Conv4(nn.Module):
  """The Conv-4 of Prototypical Networks, optionally with a projection head.

  4 x [3x3 conv (width) -> BatchNorm -> ReLU -> 2x2 max-pool], flattened: a
  28 x 28 input gives a 64-d vector. With `embed_dim`, an MLP head
  (Dense -> ReLU -> Dense(embed_dim)) follows. `axis_name` synchronises the
  BatchNorm statistics across the devices of a pmap.
  """
  width: int = 64
  num_blocks: int = 4
  embed_dim: Optional[int] = None
  axis_name: Optional[str] = None
  bn_momentum: float = 0.9

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = True) -> jnp.ndarray:
    for _ in range(self.num_blocks):
      # No bias: the BatchNorm that follows removes it anyway.
      x = nn.Conv(self.width, (3, 3), padding="SAME", use_bias=False)(x)
      x = nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum,
                       axis_name=self.axis_name if train else None)(x)
      x = nn.relu(x)
      x = max_pool_2x2(x)
    x = x.reshape(x.shape[0], -1)
    if self.embed_dim:
      x = nn.relu(nn.Dense(x.shape[-1])(x))
      x = nn.Dense(self.embed_dim)(x)
    return x


class GroupFaceConv4(nn.Module):
  """Conv-4 followed by GroupFace's group-aware head (Kim et al., 2020).

  With v the Conv-4 feature: instance embedding v_x = Dense(v); K latent
  group embeddings v_{G_k} = Dense_k(v); the group-decision network (an MLP)
  gives p(G_k|x) = softmax(MLP(v)); the output is
  v_x + sum_k p(G_k|x) v_{G_k}: [B, D]. In training, p [B, K] is sown into the
  "intermediates" collection as "group_probs" for the loss.
  """
  width: int = 64
  num_groups: int = 32
  embed_dim: Optional[int] = None
  axis_name: Optional[str] = None

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = True) -> jnp.ndarray:
    v = Conv4(self.width, axis_name=self.axis_name)(x, train)
    d = self.embed_dim or v.shape[-1]
    instance = nn.Dense(d, name="instance")(v)
    groups = nn.Dense(self.num_groups * d, name="groups")(v)
    groups = groups.reshape(v.shape[0], self.num_groups, d)  # [B, K, D]
    hidden = nn.relu(nn.Dense(d, name="decision_hidden")(v))
    probs = nn.softmax(nn.Dense(self.num_groups, name="decision")(hidden))
    if train:
      self.sow("intermediates", "group_probs", probs)
    return instance + jnp.einsum("bk,bkd->bd", probs, groups)


MODELS = {"conv4": Conv4, "conv4_groupface": GroupFaceConv4}


def create_model(model_config, axis_name: Optional[str] = None) -> nn.Module:
  """The encoder named by config.model.name."""
  if model_config.name not in MODELS:
    raise ValueError(f"config.model.name={model_config.name!r} is not one of "
                     f"{sorted(MODELS)}.")
  kwargs = dict(width=model_config.width,
                embed_dim=model_config.embed_dim or None, axis_name=axis_name)
  if model_config.name == "conv4_groupface":
    kwargs["num_groups"] = model_config.num_groups
  return MODELS[model_config.name](**kwargs)
