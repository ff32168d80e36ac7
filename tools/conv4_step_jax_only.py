"""The Conv-4 training step in plain JAX (no Flax, Optax or grouprep), to
compare jaxlib versions and XLA flags on the same program.

Conv-4 (4 x [3x3 conv 64, BatchNorm synchronised over the devices, ReLU,
2x2 max-pool]) on 2 x 128 images of 28 x 28, a unit-norm InfoNCE over the
gathered batch, SGD; pmapped on 2 CPU devices. Prints jax's version, the
XLA flags and images/s of 3 rounds of 10 steps.

  python tools/conv4_step_jax_only.py
  # another jaxlib, in its own venv:
  python3 -m venv /tmp/jax0.9.2 && /tmp/jax0.9.2/bin/pip install jax==0.9.2
  /tmp/jax0.9.2/bin/python tools/conv4_step_jax_only.py
"""
import os, sys, time, functools
os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2"
import numpy as np, jax, jax.numpy as jnp
from jax import lax
B = 128  # per device

def init(key):
  ps = []
  cin = 1
  for i in range(4):
    key, k = jax.random.split(key)
    ps.append({"w": jax.random.normal(k, (3, 3, cin, 64)) * (2 / (9 * cin)) ** 0.5,
               "g": jnp.ones(64), "b": jnp.zeros(64)})
    cin = 64
  return ps

def fwd(ps, x):
  for p in ps:
    x = lax.conv_general_dilated(x, p["w"], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    m = lax.pmean(x.mean((0, 1, 2)), "d")
    v = lax.pmean((x * x).mean((0, 1, 2)), "d") - m * m
    x = (x - m) * lax.rsqrt(v + 1e-5) * p["g"] + p["b"]
    x = jax.nn.relu(x)
    b, h, w, c = x.shape
    x = x[:, :h // 2 * 2, :w // 2 * 2].reshape(b, h // 2, 2, w // 2, 2, c).max((2, 4))
  return x.reshape(x.shape[0], -1)

def loss(ps, x):
  e = fwd(ps, x)
  e = e / jnp.linalg.norm(e, axis=-1, keepdims=True)
  ea = lax.all_gather(e, "d").reshape(-1, e.shape[-1])
  s = e @ ea.T / 0.1
  return -jax.nn.log_softmax(s, -1).diagonal(offset=0).mean()

@functools.partial(jax.pmap, axis_name="d")
def step(ps, x):
  l, g = jax.value_and_grad(loss)(ps, x)
  g = lax.pmean(g, "d")
  return jax.tree_util.tree_map(lambda p, gg: p - 1e-3 * gg, ps, g), l

ps = jax.tree_util.tree_map(lambda a: jnp.stack([a, a]), init(jax.random.PRNGKey(0)))
x = jnp.asarray(np.random.RandomState(0).rand(2, B, 28, 28, 1).astype(np.float32))
for _ in range(3):
  ps, l = step(ps, x); l.block_until_ready()
ts = []
for r in range(3):
  t = time.perf_counter()
  for _ in range(10):
    ps, l = step(ps, x)
  l.block_until_ready()
  ts.append(2 * B * 10 / (time.perf_counter() - t))
print(jax.__version__, os.environ.get("XLA_FLAGS"), "img/s", [round(v) for v in ts], "median", round(sorted(ts)[1]))
