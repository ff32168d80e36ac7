"""Benchmarks: the real training step, the loss at scale, the data path.

  python -m grouprep.benchmark --what=step --classes 32 --items 4 --image-size 28 \
      --loss group_item --pooling centroid
  python -m grouprep.benchmark --what=loss --groups 1024,4096,16384
  python -m grouprep.benchmark --what=data
  python -m grouprep.benchmark --what=compare --torch-python /tmp/torchpeer/bin/python

Each prints JSON lines. --what=step times grouprep's own pmapped train step
(train.make_p_train_step) on the workload of ../shared/bench/torch_peer.py:
C classes x 2 views x M items of random pixels, Conv-4, cosine / 0.1, Adam 1e-3.
--what=compare alternates the two programs, --rounds times each, and reports
the medians and their ratio.
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
  step = train.make_p_train_step(get_method(config.loss), devices)
  x = np.random.default_rng(0).random(
      (args.classes, 2, args.items, s, s, 1), np.float32)
  x = sampler.shard(x, len(devices))
  labels = np.broadcast_to(np.arange(args.classes), (len(devices), args.classes))
  group_ids = np.broadcast_to(np.arange(2 * args.classes).reshape(-1, 2),
                              (len(devices), args.classes, 2))
  for _ in range(args.warmup):
    state, metrics = step(state, x, labels, group_ids)
  jax.block_until_ready(metrics)
  times = []
  for _ in range(args.steps):
    t = time.perf_counter()
    state, metrics = step(state, x, labels, group_ids)
    jax.block_until_ready(metrics)
    times.append(time.perf_counter() - t)
  med = statistics.median(times)
  images = args.classes * 2 * args.items
  return {"peer": "grouprep", "jax": jax.__version__, "devices": len(devices),
          "loss": args.loss, "pooling": args.pooling, "batch_images": images,
          "image_size": s, "median_step_s": round(med, 5),
          "images_per_s": round(images / med, 1)}


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


def compare(args) -> dict:
  """Alternates the PyTorch peer and grouprep, args.rounds runs each."""
  peer = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "bench",
                      "torch_peer.py")
  flags = ["--classes", str(args.classes), "--items", str(args.items),
           "--image-size", str(args.image_size), "--loss", args.loss,
           "--pooling", args.pooling, "--steps", str(args.steps),
           "--warmup", str(args.warmup)]
  ours, theirs = [], []
  for _ in range(args.rounds):
    for who, cmd, sink in (
        ("torch", [args.torch_python, peer] + flags, theirs),
        ("grouprep", [sys.executable, "-m", "grouprep.benchmark",
                      "--what=step"] + flags, ours)):
      out = subprocess.run(cmd, capture_output=True, text=True, check=True)
      sink.append(json.loads(out.stdout.strip().splitlines()[-1])["images_per_s"])
  return {"loss": args.loss, "pooling": args.pooling, "classes": args.classes,
          "items": args.items, "image_size": args.image_size,
          "grouprep_images_per_s": statistics.median(ours),
          "torch_images_per_s": statistics.median(theirs),
          "ratio": round(statistics.median(ours) / statistics.median(theirs), 3),
          "runs": {"grouprep": ours, "torch": theirs}}


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--what", choices=["step", "loss", "data", "compare"],
                 default="step")
  p.add_argument("--classes", type=int, default=32)
  p.add_argument("--items", type=int, default=4)
  p.add_argument("--image-size", type=int, default=28)
  p.add_argument("--loss", choices=["group_item", "group_group"],
                 default="group_item")
  p.add_argument("--pooling", choices=["centroid", "medoid"], default="centroid")
  p.add_argument("--steps", type=int, default=20)
  p.add_argument("--warmup", type=int, default=3)
  p.add_argument("--rounds", type=int, default=5)
  p.add_argument("--torch-python", default="python")
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
    print(json.dumps(bench_step(args)))
  elif args.what == "loss":
    for row in bench_loss(args):
      print(json.dumps(row), flush=True)
  elif args.what == "data":
    print(json.dumps(bench_data(args)))
  else:
    print(json.dumps(compare(args)))


if __name__ == "__main__":
  main()
