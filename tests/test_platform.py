"""The device count is config, never the host's core count."""
import os

import pytest

from grouprep import platform


@pytest.mark.parametrize("cores", [1, 2, 8, 64])
def test_the_same_config_uses_the_same_devices_on_any_core_count(
    monkeypatch, cores):
  # Fake the host: whatever its cores, the CPU exposes the config's count.
  monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
  monkeypatch.setattr(os, "cpu_count", lambda: cores)
  for num_devices, want in [(0, 2), (1, 1), (4, 4)]:
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true")
    assert platform.configure_cpu_devices(num_devices) == want
    assert os.environ["XLA_FLAGS"] == (
        "--xla_cpu_multi_thread_eigen=true "
        f"--xla_force_host_platform_device_count={want}")
    assert platform.resolve_num_devices(num_devices, "cpu", cores) == want


def test_accelerators_default_to_all_of_them():
  assert platform.resolve_num_devices(0, "gpu", 8) == 8
  assert platform.resolve_num_devices(2, "gpu", 8) == 2


def test_an_explicit_device_count_is_kept(monkeypatch):
  monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=3")
  assert platform.configure_cpu_devices(0) == 3


@pytest.mark.multi_device
def test_training_devices_take_the_configured_count():
  import jax
  assert len(jax.local_devices()) >= 2, "conftest asks XLA for 2 CPU devices"
  assert platform.training_devices(1) == jax.local_devices()[:1]
  assert platform.training_devices(0) == jax.local_devices()[:2]
  from grouprep import validation
  with pytest.raises(validation.ConfigError, match="config.num_devices=64"):
    platform.training_devices(64)


def test_compiled_code_is_kept_per_cpu_model_and_instruction_set():
  """platform.host_cpu_tag: the same CPU gives the same tag whatever the
  order of its lines or cores; another model or another flag (AVX-512 off)
  another tag, so a shared compilation cache never mixes their code."""
  zen4 = ("processor\t: 0\nmodel name\t: AMD EPYC 9B14\nflags\t\t: sse2 avx2 "
          "avx512f\n")
  two_cores = zen4 + zen4.replace("processor\t: 0", "processor\t: 1")
  tag = platform.host_cpu_tag(zen4)
  assert tag.startswith("cpu-")
  assert platform.host_cpu_tag(two_cores) == tag
  assert platform.host_cpu_tag(zen4.replace(" avx512f", "")) != tag
  assert platform.host_cpu_tag(zen4.replace("9B14", "7B13")) != tag


def test_a_cpu_runs_stack_names_the_cpu():
  """platform.stack on a CPU names the CPU's model and its tag: XLA compiles
  for the host's instruction set, so the CPU is part of what computed a
  run's numbers."""
  zen4 = "processor\t: 0\nmodel name\t: AMD EPYC 9B14\nflags\t\t: avx2\n"
  assert platform.host_cpu_model(zen4) == "AMD EPYC 9B14"
  assert platform.host_cpu_model("processor\t: 0\n")  # falls back, not ""
  import jax  # pylint: disable=g-import-not-at-top
  s = platform.stack()
  assert (s["jax"], s["platform"]) == (jax.__version__, jax.default_backend())
  import flax, numpy, optax  # pylint: disable=g-import-not-at-top,multiple-imports
  assert s["libraries"] == {"flax": flax.__version__,
                            "optax": optax.__version__,
                            "numpy": numpy.__version__}
  if s["platform"] == "cpu":
    assert s["cpu"] == platform.host_cpu_model()
    assert s["cpu_tag"] == platform.host_cpu_tag()
  else:
    assert "cpu" not in s
