"""The benchmark's machine description: CPU, ISA, assumed peak, FLOP count."""
import jax
import jax.numpy as jnp
import pytest

from grouprep import benchmark
from grouprep import models

SPR = """vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Processor
cpu MHz\t\t: 2600.000
flags\t\t: fpu sse2 avx avx2 fma avx512f avx512_bf16 amx_bf16
"""
ZEN3 = """vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13
cpu MHz\t\t: 2450.000
flags\t\t: fpu sse2 avx avx2 fma
"""
ZEN4 = ZEN3.replace("avx2 fma", "avx2 fma avx512f avx512_bf16").replace(
    "7B13", "9B14")


@pytest.mark.parametrize("text,isa,per_cycle,peak", [
    (SPR, "avx512+bf16+amx", 64, 2 * 64 * 2.6),
    (ZEN3, "avx2", 32, 2 * 32 * 2.45),
    (ZEN4, "avx512+bf16", 32, 2 * 32 * 2.45),
])
def test_cpu_peak_follows_the_detected_cpu(text, isa, per_cycle, peak):
  info = benchmark.cpu_info(text, cores=2)
  assert info["isa"] == isa
  assert info["fp32_flop_per_cycle_per_core"] == per_cycle
  assert info["peak_gflops"] == pytest.approx(peak, abs=0.1)


def test_cpu_info_without_proc_cpuinfo():
  info = benchmark.cpu_info("", cores=2)
  assert info["peak_gflops"] == 0 and info["isa"] == "sse"


def test_conv4_flops_match_the_forward_xla_counts_with_every_tap():
  """3 x the forward, every tap. XLA's cost analysis skips the taps that
  fall on SAME padding, so it is smaller, by less than the border share."""
  if jax.default_backend() != "cpu":
    pytest.skip("XLA's CPU cost analysis; a GPU's counts its own kernels")
  ours = benchmark.conv4_train_flops(28) / 3
  m = models.Conv4()
  x = jnp.zeros((8, 28, 28, 1))
  v = m.init(jax.random.PRNGKey(0), x, train=False)
  cost = jax.jit(lambda v, x: m.apply(v, x, train=False)).lower(
      v, x).compile().cost_analysis()
  cost = cost[0] if isinstance(cost, list) else cost
  xla = cost["flops"] / 8
  assert 0.85 * ours < xla < ours
  assert ours == pytest.approx(2 * 9 * 64 * (28**2 + 14**2 * 64 + 7**2 * 64 +
                                              3**2 * 64))


def test_eval_benchmark_empties_what_each_state_says(tmp_path, monkeypatch):
  """--what=eval: fresh starts from an empty grouprep cache, untrained_reused
  keeps only the untrained evaluation, warm keeps it and the compiled
  programs; each line is appended to --out."""
  import json  # pylint: disable=g-import-not-at-top
  import os  # pylint: disable=g-import-not-at-top
  import subprocess  # pylint: disable=g-import-not-at-top
  workdir = tmp_path / "run"
  workdir.mkdir()
  seen = []
  # Seconds of the fresh, reused and warm runs of rounds 1-3: one outlier
  # (300) that a median ignores and a mean would not.
  seconds = [1.0, 10.0, 20.0, 2.0, 11.0, 21.0, 300.0, 12.0, 22.0]

  def fake_run(cmd, env, **kwargs):
    del kwargs
    cache = env["GROUPREP_CACHE"]
    seen.append(sorted(os.listdir(cache)))
    for sub in ("jax", "untrained_eval", "data"):  # what an evaluation leaves
      os.makedirs(os.path.join(cache, sub), exist_ok=True)
    (workdir / "metrics.json").write_text(json.dumps(
        {"step": 7, "eval_seconds": seconds[len(seen) - 1], "stack": {}}))
    assert "--mode=eval" in cmd
    return subprocess.CompletedProcess(cmd, 0, "", "")

  monkeypatch.setattr(benchmark.subprocess, "run", fake_run)
  out = tmp_path / "lines.jsonl"
  benchmark.main(["--what=eval", "--config=gi_centroid",
                  f"--workdir={workdir}", "--rounds=3", f"--out={out}"])
  fresh, reused, warm = [], ["data", "untrained_eval"], [
      "data", "jax", "untrained_eval"]
  assert seen == [fresh, reused, warm] * 3
  line = json.loads(out.read_text())
  assert line["eval_seconds"] == {"fresh": 2.0, "untrained_reused": 11.0,
                                  "warm": 21.0}
  assert line["step"] == 7 and len(line["load_average_1min"]) == 10


def test_compare_alternates_the_programs_and_its_ratio_reaches_the_page(
    tmp_path, monkeypatch):
  """--what=compare: the PyTorch peer and grouprep's step alternate, each
  --rounds times, on the same flags; the line holds both medians, their
  ratio, both stacks and the load; performance_report renders the last
  line of each workload."""
  import json  # pylint: disable=g-import-not-at-top
  import os  # pylint: disable=g-import-not-at-top
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))), "tools"))
  import performance_report  # pylint: disable=g-import-not-at-top
  calls = []
  # images/s of torch, grouprep, torch, ... over 3 rounds: medians 100, 150.
  speeds = [100.0, 150.0, 90.0, 140.0, 500.0, 160.0]

  def fake_run(cmd, **kwargs):
    del kwargs
    calls.append(cmd)
    ours = "grouprep.benchmark" in cmd
    line = {"images_per_s": speeds[len(calls) - 1]}
    line.update({"jax": "9.9", "cpu": "Fake CPU", "cores": 2, "isa": "avx2",
                 "peak_gflops": 100.0} if ours else {"torch": "8.8"})
    return subprocess.CompletedProcess(cmd, 0, json.dumps(line) + "\n", "")

  monkeypatch.setattr(benchmark.subprocess, "run", fake_run)
  out = tmp_path / "lines.jsonl"
  benchmark.main(["--what=compare", "--torch-python=torchpy", "--rounds=3",
                  "--loss=group_group", "--pooling=medoid", f"--out={out}"])
  assert [("grouprep.benchmark" in c) for c in calls] == [False, True] * 3
  flags = [c[c.index("--classes"):] for c in calls]
  assert all(f == flags[0] for f in flags) and calls[0][0] == "torchpy"
  line = json.loads(out.read_text())
  assert (line["what"], line["loss"], line["pooling"]) == (
      "compare", "group_group", "medoid")
  assert (line["torch_images_per_s"], line["grouprep_images_per_s"]) == (
      100.0, 150.0)
  assert line["ratio"] == 1.5 and (line["jax"], line["torch"]) == ("9.9",
                                                                   "8.8")
  assert len(line["load_average_1min"]) == 7
  older = dict(line, ratio=0.5)
  block = performance_report.render([older, line])
  assert "| group_group + medoid, C=32, M=4, 28 x 28 | 150.0 | 100.0 | " \
         "**1.500** | jax 9.9, torch 8.8 | 3 |" in block
  assert "0.500" not in block
