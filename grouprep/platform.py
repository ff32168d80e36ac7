"""How many devices the pmapped step uses: config, never the host's core count.

`config.num_devices` (per process): 0 means 2 virtual XLA devices on CPU
(whatever its core count, so the same command gives the same numbers on any
CPU machine) and every accelerator on GPU/TPU (the hardware the user chose).
"""
import hashlib
import os
import platform as host_platform
import re

CPU_DEFAULT_DEVICES = 2
# config.train / config.eval.matmul_precision: jax.default_matmul_precision's
# precision names (configs/base.py says what each does where). Its dtype
# aliases are left out: "bfloat16" means DEFAULT, which is TF32 on a GPU.
PRECISIONS = ("highest", "high", "default")
_FORCE = r"--xla_force_host_platform_device_count=(\d+)"


def configure_cpu_devices(num_devices: int) -> int:
  """Exposes the CPU as `num_devices` XLA devices (0: CPU_DEFAULT_DEVICES) so
  the pmapped step runs data-parallel over them; an explicit
  --xla_force_host_platform_device_count in XLA_FLAGS is kept. Affects only
  the CPU platform, and asks for GPU memory on demand (unless
  XLA_PYTHON_CLIENT_PREALLOCATE is set). Call before JAX creates its
  backend. Returns the count of CPU devices that XLA will expose.
  """
  # GPU memory on demand, not 75 % of it up front: several runs (a study's
  # seeds, the tests' subprocesses) then share one GPU. Conv-4 needs little.
  os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
  flags = os.environ.get("XLA_FLAGS", "")
  found = re.search(_FORCE, flags)
  if found:
    return int(found.group(1))
  count = num_devices or CPU_DEFAULT_DEVICES
  os.environ["XLA_FLAGS"] = (
      f"{flags} --xla_force_host_platform_device_count={count}").strip()
  return count


def resolve_num_devices(num_devices: int, platform: str = None,
                        available: int = None) -> int:
  """config.num_devices -> the count used: itself when set, else 2 on CPU and
  `available` (every local device) on an accelerator."""
  if num_devices:
    return int(num_devices)
  if platform is None:
    import jax  # pylint: disable=g-import-not-at-top
    platform = jax.default_backend()
    available = jax.local_device_count()
  return CPU_DEFAULT_DEVICES if platform == "cpu" else int(available)


def training_devices(num_devices: int):
  """The devices of the pmapped step: the first resolve_num_devices(...) local
  devices of every process, in jax.devices() order. A clear error when a
  process has fewer."""
  import jax  # pylint: disable=g-import-not-at-top
  from grouprep import errors  # pylint: disable=g-import-not-at-top
  local = jax.local_devices()
  n = resolve_num_devices(num_devices, local[0].platform, len(local))
  if len(local) < n:
    hint = ("set --config.num_devices to at most that" if local[0].platform
            != "cpu" else "XLA_FLAGS forces fewer CPU devices; unset it")
    raise errors.ConfigError(
        f"config.num_devices={num_devices} asks for {n} devices per process, "
        f"but this process has {len(local)} {local[0].platform} device(s): "
        f"{hint}.")
  taken, out = {}, []
  for d in jax.devices():
    if taken.get(d.process_index, 0) < n:
      taken[d.process_index] = taken.get(d.process_index, 0) + 1
      out.append(d)
  return out


# Beside JAX, the libraries whose code is in a training step (flax's layers,
# optax's update, numpy's host-side sampling): one run's numbers move when
# any of them changes, so each run records their versions too.
LIBRARIES = ("flax", "optax", "numpy")


def stack() -> dict:
  """What computed a run's numbers: the JAX stack, its backend and device,
  the versions of LIBRARIES ("libraries"); on a CPU also the CPU's model
  and host_cpu_tag, since XLA compiles for the host's instruction set and a
  sum vectorised otherwise rounds otherwise."""
  import importlib.metadata  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  import jax  # pylint: disable=g-import-not-at-top
  import jaxlib  # pylint: disable=g-import-not-at-top
  out = {"python": sys.version.split()[0], "jax": jax.__version__,
         "jaxlib": jaxlib.__version__, "platform": jax.default_backend(),
         "device_kind": jax.devices()[0].device_kind,
         "libraries": {name: importlib.metadata.version(name)
                       for name in LIBRARIES}}
  if out["platform"] == "cpu":
    out.update(cpu=host_cpu_model(), cpu_tag=host_cpu_tag())
  return out


def _cpuinfo(cpuinfo: str = None) -> str:
  """/proc/cpuinfo's text where there is one, else the processor's name."""
  if cpuinfo is not None:
    return cpuinfo
  try:
    with open("/proc/cpuinfo") as f:
      return f.read()
  except OSError:
    return host_platform.processor()


def host_cpu_model(cpuinfo: str = None) -> str:
  """This host's CPU model as /proc/cpuinfo names it ('AMD EPYC'), else the
  processor's or the architecture's name."""
  return next((l.split(":", 1)[1].strip() for l in _cpuinfo(
      cpuinfo).splitlines() if l.startswith("model name")),
              host_platform.processor() or host_platform.machine())


def host_cpu_tag(cpuinfo: str = None) -> str:
  """A name for this host's CPU: its architecture, model and instruction-set
  flags (cpuinfo: /proc/cpuinfo's text, read where there is one), hashed.
  Compiled CPU code is kept per tag, so a cache shared by different machines
  (a network home) never hands one CPU code built for another's instruction
  set."""
  cpuinfo = _cpuinfo(cpuinfo)
  wanted = sorted({l.split(":", 1)[-1].strip() for l in cpuinfo.splitlines()
                   if l.startswith(("model name", "flags", "Features"))})
  text = "\n".join([host_platform.machine()] + wanted)
  return "cpu-" + hashlib.sha256(text.encode()).hexdigest()[:12]
