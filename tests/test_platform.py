"""The CPU device split chosen before JAX starts."""
from grouprep import platform


def test_split_picks_the_largest_divisor_of_c_up_to_the_cores(monkeypatch):
  for c, cores, want in [(16, 2, 2), (15, 2, 1), (30, 8, 6), (7, 1, 1)]:
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true")
    assert platform.split_cpu_into_devices(c, cores=cores) == want
    import os
    assert os.environ["XLA_FLAGS"] == (
        "--xla_cpu_multi_thread_eigen=true "
        f"--xla_force_host_platform_device_count={want}")


def test_an_explicit_device_count_is_kept(monkeypatch):
  monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=3")
  assert platform.split_cpu_into_devices(16, cores=8) == 3
