"""The four counting networks of Lee et al. (2019), section 5.2.

Each maps a padded set of drawings to the rate of a Poisson over the number
of distinct characters it holds:

  images [B, M, S, S] uint8, mask [B, M] -> rate [B] > 0

  per drawing   4 x [3x3 conv (64), stride 2 -> BatchNorm -> ReLU], flattened,
                then Dense(D)                                    [B, M, D]
  set encoder   rff: 2 x [Dense(D) -> ReLU], each drawing alone
                sab: 2 x SAB(D, 4 heads), the drawings attend to each other
  pooling       mean: the mean of the present drawings           [B, D]
                pma:  PMA_1 (8 heads)
  decoder       2 x [Dense(D) -> ReLU], after either pooling     [B, D]
  output        Dense(1) -> softplus                             [B]

Why a decoder: when the drawings do not interact before pooling (rFF),
a linear read-out of their mean cannot count distinct characters, so rFF
+ Pooling stayed at the constant-count floor (results/NOTES.md). DeepSets'
rho(sum phi(x)) needs a nonlinear rho, and the paper decodes the Set
Transformer's pooled seeds further (rFF(SAB(PMA_k(Z)))). Both poolings get
the same decoder, so the pooling is the only thing a row changes.

Padded slots (mask False) change nothing: BatchNorm's statistics are taken
over the present drawings alone (flax's `mask=`), attention never looks at a
padded key, and pooling leaves padded rows out. The SAB and PMA blocks are
grouprep.set_encoders' pure functions, their parameter trees held as flax
params.
"""
import flax.linen as nn
import jax
import jax.numpy as jnp

from grouprep import pooling
from grouprep import set_encoders

BLOCKS = ("rff", "sab")
POOLS = ("mean", "pma")


class ConvEncoder(nn.Module):
  """Each drawing alone: images [..., S, S] uint8, mask [...] -> [..., dim].
  BatchNorm's batch statistics count the drawings where mask is True."""
  width: int = 64
  num_blocks: int = 4
  dim: int = 64
  bn_momentum: float = 0.99

  @nn.compact
  def __call__(self, images, mask, train: bool):
    lead = images.shape[:-2]
    x = images.reshape((-1,) + images.shape[-2:] + (1,)).astype(jnp.float32)
    x = x / 255.0
    present = mask.reshape(-1, 1, 1, 1)
    for _ in range(self.num_blocks):
      x = nn.Conv(self.width, (3, 3), strides=2, padding="SAME",
                  use_bias=False)(x)
      x = nn.BatchNorm(use_running_average=not train,
                       momentum=self.bn_momentum)(
                           x, mask=jnp.broadcast_to(present, x.shape))
      x = nn.relu(x)
    x = nn.Dense(self.dim)(x.reshape(x.shape[0], -1))
    return x.reshape(lead + (self.dim,))


class SetCounter(nn.Module):
  """A padded set -> the Poisson rate of its number of distinct characters.
  block: 'rff' or 'sab'; pool: 'mean' or 'pma' (the module docstring)."""
  block: str = "sab"
  pool: str = "pma"
  dim: int = 64
  conv_width: int = 64
  conv_blocks: int = 4
  num_blocks: int = 2
  heads: int = 4
  pma_heads: int = 8
  layer_norm: bool = False
  decoder_layers: int = 2  # rFF layers after the pooling

  @nn.compact
  def __call__(self, images, mask, train: bool = False):
    h = ConvEncoder(self.conv_width, self.conv_blocks, self.dim,
                    name="conv")(images, mask, train)
    for i in range(self.num_blocks):
      if self.block == "sab":
        p = self.param(f"sab_{i}", lambda rng: set_encoders.init_sab(
            rng, self.dim, self.heads, self.layer_norm))
        h = set_encoders.sab(h, p, mask)
      else:
        h = nn.relu(nn.Dense(self.dim, name=f"rff_{i}")(h))
    if self.pool == "pma":
      p = self.param("pma", lambda rng: set_encoders.init_pma(
          rng, self.dim, self.pma_heads, 1, self.layer_norm))
      z = set_encoders.pma(h, p, mask)[..., 0, :]
    else:
      z = pooling.centroid(h, mask)  # the mean of the present drawings
    for i in range(self.decoder_layers):
      z = nn.relu(nn.Dense(self.dim, name=f"decoder_{i}")(z))
    return jax.nn.softplus(nn.Dense(1, name="out")(z)[..., 0])


def create_model(model_config) -> SetCounter:
  """config.model -> the network; a ValueError naming a wrong field."""
  m = model_config
  if m.block not in BLOCKS:
    raise ValueError(f"config.model.block={m.block!r} is not one of {BLOCKS}.")
  if m.pool not in POOLS:
    raise ValueError(f"config.model.pool={m.pool!r} is not one of {POOLS}.")
  if m.decoder_layers < 0:
    raise ValueError(f"config.model.decoder_layers={m.decoder_layers} must "
                     "be >= 0.")
  for field, heads in (("heads", m.heads), ("pma_heads", m.pma_heads)):
    if m.dim % heads:
      raise ValueError(f"config.model.{field}={heads} must divide "
                       f"config.model.dim={m.dim}.")
  return SetCounter(block=m.block, pool=m.pool, dim=m.dim,
                    conv_width=m.conv_width, conv_blocks=m.conv_blocks,
                    num_blocks=m.num_blocks, heads=m.heads,
                    pma_heads=m.pma_heads, layer_norm=m.layer_norm,
                    decoder_layers=m.decoder_layers)
