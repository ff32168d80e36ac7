"""A canary for the installed jaxlib: does XLA:CPU compute a known-fragile
pattern exactly?

jaxlib 0.10.2 silently miscompiles a vmapped matrix-vector product followed by
a reduction on CPU (XLA's YNNPACK reduce fusion): under `jit`, rows past
2**15 (float32) or 2**14 (float64) come back wrong, e.g. 1,065,369,600 where
32768**2 = 1,073,741,824. The inputs are chosen so that a correct compilation
gives exactly NumPy's i * i (one rounding), so the test compares with `==`.
If this test fails, the installed jaxlib is one the project excludes
(pyproject.toml; docs/toolchain.md): reinstall with the README's command.

It always runs on the CPU backend, also when the suite is asked to run on an
accelerator: in this process when JAX has a CPU device, else in a child
process with JAX_PLATFORMS=cpu.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

# (dtype, rows): float32 fails from row 32768 on, float64 from row 16384 on.
CASES = [("float32", 32_769), ("float32", 40_000), ("float64", 16_385)]


def wrong_rows(dtype: str, rows: int, device) -> np.ndarray:
  """Indices of the rows where jit(vmap(sum((eye(3) @ row) ** 2))) on
  `device` differs from the exact i**2 (row i is (i, 0, 0))."""
  import jax
  import jax.numpy as jnp

  with jax.enable_x64(dtype == "float64"):
    i = np.arange(rows, dtype=dtype)
    x = np.stack([i, np.zeros_like(i), np.zeros_like(i)], axis=1)
    matrix = np.eye(3, dtype=dtype)

    def f(x):
      return jax.vmap(lambda row: jnp.sum((matrix @ row) ** 2))(x)

    got = np.asarray(jax.jit(f)(jax.device_put(x, device)))
  assert got.dtype == np.dtype(dtype)
  # Exact: i and 0 pass through eye(3) unchanged and i * i is rounded once,
  # as NumPy rounds it.
  return np.flatnonzero(got != i * i)


def cpu_device():
  """JAX's first CPU device, or None where this process has no CPU backend
  (JAX_PLATFORMS names only an accelerator)."""
  import jax
  try:
    return jax.devices("cpu")[0]
  except Exception:  # RuntimeError, or an AssertionError from some backends
    return None


@pytest.mark.parametrize("dtype,rows", CASES)
def test_jit_computes_the_vmapped_matvec_reduction_exactly_on_cpu(dtype, rows):
  import jax
  import jaxlib
  device = cpu_device()
  if device is None:
    out = subprocess.run(
        [sys.executable, __file__, dtype, str(rows)],
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
        capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    bad = np.array(out.stdout.split(), dtype=np.int64)
  else:
    bad = wrong_rows(dtype, rows, device)
  assert bad.size == 0, (
      f"jax {jax.__version__} / jaxlib {jaxlib.__version__} miscompiles a "
      f"vmapped matvec + reduction on CPU ({dtype}, {rows} rows): "
      f"{bad.size} wrong rows, the first {bad[:5].tolist()}. Known bad: "
      "jaxlib 0.10.2. Install a supported stack (docs/toolchain.md), or set "
      "XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=-reduce.")


if __name__ == "__main__":  # the child process of the test above
  import jax
  print(" ".join(map(str, wrong_rows(sys.argv[1], int(sys.argv[2]),
                                     jax.devices("cpu")[0]))))
