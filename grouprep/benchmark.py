"""Benchmarks: the real training step, the loss at scale, the data path.

  python -m grouprep.benchmark --what=step --classes 32 --items 4 --image-size 28 \
      --loss group_item --pooling centroid
  python -m grouprep.benchmark --what=loss --groups 1024,4096,16384
  python -m grouprep.benchmark --what=data
  python -m grouprep.benchmark --what=loop --config gi_centroid --steps 200
  python -m grouprep.benchmark --what=loop_vs_step --config gi_centroid \
      --steps 150 --rounds 3
  python -m grouprep.benchmark --what=eval --config gi_centroid \
      --workdir runs/gi_centroid
  python -m grouprep.benchmark --what=compare --torch-python /tmp/torchpeer/bin/python

Each prints JSON lines. --what=step times grouprep's own pmapped train step
(train.make_p_train_step) on the workload of ../shared/bench/torch_peer.py:
C classes x 2 views x M items of random pixels, Conv-4, cosine / 0.1, Adam 1e-3.
The step's inputs are on the devices before it is timed (no host copy).
--what=loop times the real training loop (train.train: sampling on the host,
dispatch, the device-fed gather, logging, checkpoints) on Omniglot with a
config's batch shape: images/s between its first and last log lines, so
compilation is left out. --what=loop_vs_step alternates the two, --rounds
times each, on the config's C x V x M batch (its loss and pooling), and
reports the medians and loop/step (the target: >= 0.95 on a CPU).
--what=eval times `grouprep.main --mode=eval` of a finished --workdir in
three states of a temporary grouprep cache (bench_eval): fresh, the
untrained encoder's evaluation reused, and warm. --out=FILE appends the
lines to FILE as well.
--precision sets the step's matmul precision (config.train.matmul_precision).
--what=compare alternates the two programs, --rounds times each, on both of
the issue's settings (group_item + centroid, group_group + medoid) unless
--loss/--pooling name one, and reports the medians and their ratio.

Every line says which machine it ran on: the device, the CPU model, its
widest vector ISA, the fp32 peak assumed for it (cores x FLOP/cycle x clock,
see cpu_peak) and the step's GFLOP/s and % of that peak, counting a Conv-4
training step as 3 x its forward FLOPs (forward, input and weight
gradients; every 3x3 tap, padded borders included, as the issue counts).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

SETTINGS = (("group_item", "centroid"), ("group_group", "medoid"))


def cpu_info(cpuinfo: str = None, cores: int = None) -> dict:
  """The CPU as /proc/cpuinfo describes it, and the fp32 peak assumed for it
  (its name: platform.host_cpu_model, this host's processor name where the
  text names none).

  FLOP/cycle per core: 64 on Intel with AVX-512 (two 512-bit FMA units, as
  on Xeon Scalable), 32 on AVX2 machines and on AMD Zen 3/4 (Zen 4 runs
  AVX-512 on 256-bit units), 16 with SSE only; x the cores this process may
  use x the clock /proc/cpuinfo reports (the base clock: turbo is not
  counted, so the peak is a lower bound where turbo is on).
  """
  if cpuinfo is None:
    try:
      with open("/proc/cpuinfo") as f:
        cpuinfo = f.read()
    except OSError:
      cpuinfo = ""
  field = lambda name: next((line.split(":", 1)[1].strip() for line in
                             cpuinfo.splitlines() if line.startswith(name)), "")
  flags = set(field("flags").split())
  from grouprep import platform  # pylint: disable=g-import-not-at-top
  model, vendor = platform.host_cpu_model(cpuinfo), field("vendor_id")
  if "avx512f" in flags:
    isa = "avx512" + ("+bf16" if "avx512_bf16" in flags else "") + (
        "+amx" if "amx_bf16" in flags else "")
  elif "avx2" in flags and "fma" in flags:
    isa = "avx2"
  else:
    isa = "sse"
  per_cycle = {"avx512": 64 if vendor == "GenuineIntel" else 32,
               "avx2": 32, "sse": 16}[isa.split("+")[0]]
  mhz = float(field("cpu MHz") or 0)
  if cores is None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count()
  return {"cpu": model, "isa": isa, "cores": cores, "ghz": round(mhz / 1e3, 2),
          "fp32_flop_per_cycle_per_core": per_cycle,
          "peak_gflops": round(cores * per_cycle * mhz / 1e3, 1)}


def conv4_train_flops(image_size: int, width: int = 64, blocks: int = 4,
                      in_channels: int = 1) -> float:
  """FLOPs of one image's Conv-4 training step: 3 x the forward's
  2 x multiply-adds of the 3x3 convolutions (every tap counted)."""
  flops, size, cin = 0.0, image_size, in_channels
  for _ in range(blocks):
    flops += 2 * size * size * cin * width * 9
    size, cin = size // 2, width
  return 3 * flops


def _machine(images_per_s: float, image_size: int) -> dict:
  import jax  # pylint: disable=g-import-not-at-top
  out = {"device": jax.devices()[0].device_kind,
         "platform": jax.default_backend()}
  gflops = images_per_s * conv4_train_flops(image_size) / 1e9
  out["gflops"] = round(gflops, 1)
  if out["platform"] == "cpu":
    cpu = cpu_info()
    out.update(cpu)
    if cpu["peak_gflops"]:
      out["percent_of_peak"] = round(100 * gflops / cpu["peak_gflops"], 1)
  return out


def _config(args):
  from configs import base  # pylint: disable=g-import-not-at-top
  config = base.get_base_config()
  config.data.classes_per_batch = args.classes
  config.data.items_per_group = args.items
  config.data.image_size = args.image_size
  config.loss.name = args.loss
  config.loss.pooling = args.pooling
  config.train.schedule = "constant"
  return config


def bench_step(args) -> dict:
  import jax  # pylint: disable=g-import-not-at-top
  from grouprep import models, platform, train  # pylint: disable=g-import-not-at-top
  from grouprep.methods.registry import get_method  # pylint: disable=g-import-not-at-top
  from grouprep.data import sampler  # pylint: disable=g-import-not-at-top
  config = _config(args)
  devices = platform.training_devices(args.num_devices)
  model = models.create_model(config.model, axis_name=train.AXIS)
  s = args.image_size
  state = train.replicate(train.create_train_state(config, model, (s, s, 1)),
                          devices)
  step = train.make_p_train_step(get_method(config.loss), devices,
                                 args.precision)
  v = args.views
  x = np.random.default_rng(0).random(
      (args.classes, v, args.items, s, s, 1), np.float32)
  x = sampler.shard(x, len(devices))
  labels = np.broadcast_to(np.arange(args.classes), (len(devices), args.classes))
  group_ids = np.broadcast_to(np.arange(v * args.classes).reshape(-1, v),
                              (len(devices), args.classes, v))
  # On the devices once, laid out as the step takes them: the step alone.
  x, labels, group_ids = jax.pmap(lambda *a: a, devices=devices)(
      x, labels, group_ids)
  for _ in range(args.warmup):
    state, metrics = step(state, x, labels, group_ids)
  jax.block_until_ready(metrics)
  times = []
  for _ in range(args.steps):
    t = time.perf_counter()
    state, metrics = step(state, x, labels, group_ids)
    jax.block_until_ready(metrics)
    times.append(time.perf_counter() - t)
  med, mean = statistics.median(times), statistics.mean(times)
  images = args.classes * v * args.items
  return {"peer": "grouprep", "jax": jax.__version__, "devices": len(devices),
          "loss": args.loss, "pooling": args.pooling, "batch_images": images,
          "batch_shape": [args.classes, v, args.items],
          "image_size": s, "precision": args.precision,
          "median_step_s": round(med, 5),
          "images_per_s": round(images / med, 1),
          "images_per_s_mean": round(images / mean, 1),
          **_machine(images / med, s)}


def bench_loop(args) -> dict:
  """images/s of train.train on Omniglot for args.steps steps of the config
  args.config (its batch shape, logging and checkpoint cadence), measured
  from its train_log between the first and the last log line."""
  import importlib  # pylint: disable=g-import-not-at-top
  import jax  # pylint: disable=g-import-not-at-top
  from grouprep import logs, train  # pylint: disable=g-import-not-at-top
  from grouprep.data import sampler  # pylint: disable=g-import-not-at-top
  config = importlib.import_module(f"configs.{args.config}").get_config()
  d = config.data
  with config.unlocked():
    config.num_devices = args.num_devices
    config.train.num_steps = args.steps
    config.train.matmul_precision = args.precision
    config.eval.every = 0
  images = d.classes_per_batch * d.groups_per_class * d.items_per_group
  with tempfile.TemporaryDirectory() as workdir:
    train.train(config, workdir)
    rows = sorted(logs.read(workdir).items())
  _, data, smp = train.training_data(config)
  on_device = train.images_on_device(
      config.data.on_device, sampler.image_table_bytes(data.images,
                                                       smp.groups),
      jax.local_devices()[0])
  (s0, r0), (s1, r1) = rows[0], rows[-1]
  per_s = (s1 - s0) * images / (r1["wall_s"] - r0["wall_s"])
  # Between consecutive log lines: the median is robust to bursts of other
  # load, as the step's median is (a checkpoint's window may be the one left
  # out: images_per_s counts everything).
  windows = [(b[0] - a[0]) * images / (b[1]["wall_s"] - a[1]["wall_s"])
             for a, b in zip(rows, rows[1:])]
  return {"peer": "grouprep", "what": "loop", "config": config.name,
          "jax": jax.__version__, "devices": r1["num_devices"],
          "batch_images": images, "batch_shape": [
              d.classes_per_batch, d.groups_per_class, d.items_per_group],
          "image_size": d.image_size, "images_on_device": on_device,
          "precision": args.precision, "steps_timed": s1 - s0,
          "log_every": config.train.log_every,
          "checkpoint_every": config.train.checkpoint_every,
          "images_per_s": round(per_s, 1),
          "images_per_s_median_window": round(statistics.median(windows), 1),
          **_machine(per_s, d.image_size)}


def loop_vs_step(args) -> dict:
  """Alternates --what=loop on args.config and --what=step on its batch
  shape (C x V x M, image size, loss, pooling), args.rounds runs each in
  fresh processes; the medians of images/s and loop/step."""
  import importlib  # pylint: disable=g-import-not-at-top
  config = importlib.import_module(f"configs.{args.config}").get_config()
  d, loss = config.data, config.loss
  if loss.name not in ("group_item", "group_group"):
    raise SystemExit(f"--what=step times group_item / group_group only; "
                     f"configs/{args.config}.py trains {loss.name!r}.")
  common = ["--num-devices", str(args.num_devices), "--precision",
            args.precision]
  cmds = {
      "step": ["--what=step", "--classes", str(d.classes_per_batch),
               "--views", str(d.groups_per_class), "--items",
               str(d.items_per_group), "--image-size", str(d.image_size),
               "--loss", loss.name, "--pooling", loss.pooling, "--steps",
               str(args.step_steps), "--warmup", str(args.warmup)],
      "loop": ["--what=loop", "--config", args.config, "--steps",
               str(args.steps)]}
  # step: images/s of its median and mean step; loop: of all its timed
  # steps and of its median log window.
  keys = {"step": ("images_per_s", "images_per_s_mean"),
          "loop": ("images_per_s", "images_per_s_median_window")}
  runs, lines = {k: [] for k in keys}, {}
  for _ in range(args.rounds):
    for what, flags in cmds.items():
      cmd = [sys.executable, "-m", "grouprep.benchmark"] + flags + common
      out = subprocess.run(cmd, capture_output=True, text=True, check=False)
      if out.returncode:
        raise SystemExit(f"{what} failed ({' '.join(cmd)}):\n"
                         f"{out.stderr[-2000:]}")
      lines[what] = json.loads(out.stdout.strip().splitlines()[-1])
      runs[what].append([lines[what][k] for k in keys[what]])
  assert lines["step"]["batch_shape"] == lines["loop"]["batch_shape"]
  med = {w: [statistics.median(r[i] for r in runs[w]) for i in range(2)]
         for w in runs}
  (loop, loop_window), (step, step_mean) = med["loop"], med["step"]
  machine = {k: lines["step"][k] for k in ("device", "cpu", "isa", "cores",
                                           "peak_gflops") if k in lines["step"]}
  return {"what": "loop_vs_step", "config": args.config,
          "batch_shape": lines["loop"]["batch_shape"],
          "image_size": d.image_size, "devices": lines["loop"]["devices"],
          "images_on_device": lines["loop"]["images_on_device"],
          "loop_steps": args.steps, "steps_timed": lines["loop"]["steps_timed"],
          "rounds": args.rounds,
          "loop_images_per_s": loop, "step_images_per_s": step,
          "loop_over_step": round(loop / step, 3),
          # like for like: all steps against the mean step, the median log
          # window against the median step
          "loop_over_step_mean": round(loop / step_mean, 3),
          "loop_window_over_step": round(loop_window / step, 3),
          **machine, "runs": runs}


def bench_loss(args) -> list:
  """Forward + backward of group_item_infonce as the number of groups grows."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  from grouprep import losses  # pylint: disable=g-import-not-at-top
  rows = []
  for c in [int(g) for g in args.groups.split(",")]:
    m, d = args.loss_items, args.dim
    rng = np.random.default_rng(0)
    items = jnp.asarray(rng.normal(size=(c, m, d)), jnp.float32)
    groups = jnp.asarray(rng.normal(size=(c, d)), jnp.float32)
    fns = {
        "bare_matmul": jax.jit(lambda i, g: i.reshape(c * m, d) @ g.T),
        "streaming": jax.jit(jax.value_and_grad(
            lambda i, g: losses.group_item_infonce_streaming(
                i, g, chunk_size=args.chunk), (0, 1))),
    }
    if c * m * c * 4 <= args.dense_limit_gb * 2**30:
      fns["dense"] = jax.jit(jax.value_and_grad(losses.group_item_infonce, (0, 1)))
    row = {"groups": c, "items": c * m, "dim": d}
    for name, fn in fns.items():
      compiled = fn.lower(items, groups).compile()
      mem = compiled.memory_analysis()
      peak = None
      if mem is not None:
        peak = (mem.temp_size_in_bytes + mem.output_size_in_bytes +
                mem.argument_size_in_bytes)
      jax.block_until_ready(compiled(items, groups))
      times = []
      for _ in range(args.loss_repeats):
        t = time.perf_counter()
        jax.block_until_ready(compiled(items, groups))
        times.append(time.perf_counter() - t)
      row[f"{name}_s"] = round(statistics.median(times), 4)
      row[f"{name}_peak_mib"] = None if peak is None else round(peak / 2**20, 1)
    row["streaming_over_matmul"] = round(row["streaming_s"] / row["bare_matmul_s"], 2)
    rows.append(row)
  return rows


def bench_data(args) -> dict:
  from grouprep.data import groups as groups_lib  # pylint: disable=g-import-not-at-top
  from grouprep.data import omniglot  # pylint: disable=g-import-not-at-top
  from grouprep.data import sampler  # pylint: disable=g-import-not-at-top
  out = {}
  with tempfile.TemporaryDirectory() as cache:
    t = time.perf_counter()
    for split in ("train", "test"):
      omniglot.load_split(split, image_size=args.image_size, cache_dir=cache)
    out["cold_load_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    data = omniglot.load_split("train", image_size=args.image_size,
                               cache_dir=cache)
    omniglot.load_split("test", image_size=args.image_size, cache_dir=cache)
    out["warm_load_s"] = round(time.perf_counter() - t, 3)
  g = groups_lib.build_groups(data.alphabet, np.arange(len(data)))
  smp = sampler.Sampler(g, 16, 2, 8, seed=0)
  t, n = time.perf_counter(), 0
  for step in range(200):
    idx = smp.indices(step)
    sampler.gather_images(data.images, g, idx)
    n += idx.size
  out["sampler_items_per_s"] = round(n / (time.perf_counter() - t))
  out["images"] = 32460
  return out


def compare(args, loss: str, pooling: str) -> dict:
  """Alternates the PyTorch peer and grouprep, args.rounds runs each."""
  peer = args.torch_peer or os.path.join(
      os.path.dirname(__file__), "..", "..", "shared", "bench", "torch_peer.py")
  flags = ["--classes", str(args.classes), "--items", str(args.items),
           "--image-size", str(args.image_size), "--loss", loss,
           "--pooling", pooling, "--steps", str(args.steps),
           "--warmup", str(args.warmup)]
  ours, theirs, machine, versions = [], [], {}, {}
  load = [os.getloadavg()[0]]  # other work on the machine slows both
  for _ in range(args.rounds):
    for who, cmd, sink in (
        ("torch", [args.torch_python, peer] + flags, theirs),
        ("grouprep", [sys.executable, "-m", "grouprep.benchmark",
                      "--what=step", "--num-devices", str(args.num_devices)]
         + flags, ours)):
      out = subprocess.run(cmd, capture_output=True, text=True, check=False)
      if out.returncode:
        raise SystemExit(f"{who} failed ({' '.join(cmd)}):\n{out.stderr[-2000:]}")
      line = json.loads(out.stdout.strip().splitlines()[-1])
      sink.append(line["images_per_s"])
      load.append(os.getloadavg()[0])
      versions[who] = line.get("jax" if who == "grouprep" else "torch")
      if who == "grouprep":
        machine = {k: line[k] for k in ("device", "cpu", "isa", "cores",
                                        "peak_gflops") if k in line}
  ours_med, theirs_med = statistics.median(ours), statistics.median(theirs)
  gflops = ours_med * conv4_train_flops(args.image_size) / 1e9
  out = {"what": "compare", "loss": loss, "pooling": pooling,
         "classes": args.classes, "rounds": args.rounds,
         "steps": args.steps, "python": sys.version.split()[0],
         "jax": versions.get("grouprep"), "torch": versions.get("torch"),
         "load_average_1min": [round(x, 2) for x in load],
         "items": args.items, "image_size": args.image_size,
         "grouprep_images_per_s": ours_med, "torch_images_per_s": theirs_med,
         "ratio": round(ours_med / theirs_med, 3),
         "grouprep_gflops": round(gflops, 1), **machine,
         "runs": {"grouprep": ours, "torch": theirs}}
  if machine.get("peak_gflops"):
    out["percent_of_peak"] = round(100 * gflops / machine["peak_gflops"], 1)
  return out


def _emit(row: dict, out=None) -> None:
  """Prints a result line (and appends it to the file out)."""
  line = json.dumps(row)
  print(line, flush=True)
  if out:
    with open(out, "a") as f:
      f.write(line + "\n")


EVAL_STATES = {
    # state: (a fresh grouprep cache, keep the untrained evaluation, keep
    # the compilation cache) before the timed evaluation
    "fresh": (True, False, False),
    "untrained_reused": (False, True, False),
    "warm": (False, True, True),
}


def bench_eval(args) -> dict:
  """eval_seconds of `python -m grouprep.main --mode=eval` on a finished
  workdir (args.workdir, trained by configs/args.config.py), each in a fresh
  process, in three states of the grouprep cache: fresh (an empty cache, as
  on a fresh machine: the test split decoded from TFDS, every program
  compiled, both encoders evaluated), untrained_reused (the untrained
  encoder's evaluation kept, the compilation cache emptied) and warm (both
  kept); args.rounds runs of each, medians. A temporary cache is used, so
  the user's is left alone; metrics.json is rewritten in place."""
  import shutil  # pylint: disable=g-import-not-at-top
  if not args.workdir:
    raise SystemExit("--what=eval needs --workdir, a finished run of "
                     f"configs/{args.config}.py.")
  runs = {k: [] for k in EVAL_STATES}
  load = [os.getloadavg()[0]]  # other work on the machine slows every run
  for _ in range(args.rounds):
    with tempfile.TemporaryDirectory() as cache:
      for state, (fresh, keep_untrained, keep_compiled) in (
          EVAL_STATES.items()):
        if fresh:
          shutil.rmtree(cache)
          os.makedirs(cache)
        if not keep_untrained:
          shutil.rmtree(os.path.join(cache, "untrained_eval"),
                        ignore_errors=True)
        if not keep_compiled:
          shutil.rmtree(os.path.join(cache, "jax"), ignore_errors=True)
        env = dict(os.environ, GROUPREP_CACHE=cache)
        env.pop("JAX_COMPILATION_CACHE_DIR", None)
        cmd = [sys.executable, "-m", "grouprep.main",
               f"--config=configs/{args.config}.py",
               f"--workdir={args.workdir}", "--mode=eval"]
        out = subprocess.run(cmd, capture_output=True, text=True, env=env,
                             check=False)
        if out.returncode:
          raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
        with open(os.path.join(args.workdir, "metrics.json")) as f:
          metrics = json.load(f)
        runs[state].append(metrics["eval_seconds"])
        load.append(os.getloadavg()[0])
  import jax  # pylint: disable=g-import-not-at-top
  machine = {"device": jax.devices()[0].device_kind,
             "platform": jax.default_backend()}
  if machine["platform"] == "cpu":
    machine.update(cpu_info())
  return {"what": "eval", "config": args.config, "step": metrics["step"],
          "rounds": args.rounds,
          "eval_seconds": {k: statistics.median(v) for k, v in runs.items()},
          "runs": runs, "load_average_1min": [round(x, 2) for x in load],
          "stack": metrics.get("stack"), **machine}


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--what", choices=["step", "loop", "loop_vs_step", "eval",
                                    "loss", "data", "compare"],
                 default="step")
  p.add_argument("--workdir", default=None,
                 help="eval: a finished run of --config to evaluate")
  p.add_argument("--out", default=None,
                 help="also append each JSON line to this file")
  p.add_argument("--classes", type=int, default=32)
  p.add_argument("--items", type=int, default=4)
  p.add_argument("--views", type=int, default=2,
                 help="step: groups per class (V)")
  p.add_argument("--image-size", type=int, default=28)
  p.add_argument("--loss", choices=["group_item", "group_group"], default=None,
                 help="default: group_item (step); both settings (compare)")
  p.add_argument("--pooling", choices=["centroid", "medoid"], default=None)
  p.add_argument("--steps", type=int, default=20,
                 help="timed steps (step); steps of the run (loop, "
                 "loop_vs_step)")
  p.add_argument("--step-steps", type=int, default=30,
                 help="loop_vs_step: timed steps of each step run")
  p.add_argument("--config", default="gi_centroid",
                 help="loop: the configs/NAME.py whose batch shape it trains")
  p.add_argument("--precision", default="highest",
                 help="matmul precision of the step (platform.PRECISIONS)")
  p.add_argument("--warmup", type=int, default=3)
  p.add_argument("--rounds", type=int, default=3)
  p.add_argument("--torch-python", default="python",
                 help="a Python with torch==2.13.0 (SPEC 6)")
  p.add_argument("--torch-peer", default=None,
                 help="path of torch_peer.py (default ../shared/bench/)")
  p.add_argument("--groups", default="1024,4096,16384")
  p.add_argument("--loss-items", type=int, default=4, help="items per group")
  p.add_argument("--dim", type=int, default=128)
  p.add_argument("--chunk", type=int, default=2048)
  p.add_argument("--loss-repeats", type=int, default=3)
  p.add_argument("--dense-limit-gb", type=float, default=4.0)
  p.add_argument("--num-devices", type=int, default=0,
                 help="devices of the step (0: 2 on CPU, all accelerators), "
                 "as config.num_devices")
  p.add_argument("--no-split-cpu", action="store_true",
                 help="one multi-threaded CPU device (--num-devices=1)")
  args = p.parse_args(argv)
  if args.no_split_cpu:
    args.num_devices = 1
  from grouprep import platform  # pylint: disable=g-import-not-at-top
  platform.configure_cpu_devices(args.num_devices)
  if args.what == "step":
    args.loss, args.pooling = args.loss or "group_item", args.pooling or \
        "centroid"
    _emit(bench_step(args), args.out)
  elif args.what == "loop":
    _emit(bench_loop(args), args.out)
  elif args.what == "loop_vs_step":
    _emit(loop_vs_step(args), args.out)
  elif args.what == "eval":
    _emit(bench_eval(args), args.out)
  elif args.what == "loss":
    for row in bench_loss(args):
      _emit(row, args.out)
  elif args.what == "data":
    _emit(bench_data(args), args.out)
  else:
    settings = SETTINGS if args.loss is None else (
        (args.loss, args.pooling or "centroid"),)
    for loss, pooling in settings:
      _emit(compare(args, loss, pooling), args.out)


if __name__ == "__main__":
  main()
