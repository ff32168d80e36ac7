"""Measures the folder / CSV data path (grouprep/data/folder.py) at scale.

  python tools/measure_folder_cache.py --images 2000000 [--decode DIR]

1. host memory per image: the manifest (paths, labels, groups), the groups
   and the C x V x M sampler of --images synthetic images (RssAnon before
   and after, from /proc/self/status);
2. the decoded images as folder.py keeps them, a memory-mapped .npy of
   --images x S x S uint8 (synthetic strokes), and C x V x M batches
   gathered from it as training gathers them: cold (the file's pages
   dropped from the page cache with posix_fadvise) and warm;
3. the same random reads from a TFDS array_record dataset (a
   GeneratorBasedBuilder, written without tensorflow) of
   --array-record-images images, against the memory map;
4. with --decode DIR: the decode rate of a real folder dataset (PNG files ->
   the cache), into a fresh temporary cache.
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

from grouprep.data import folder
from grouprep.data import groups as groups_lib
from grouprep.data import sampler as sampler_lib


def rss() -> dict:
  """{"RssAnon", "RssFile"} of this process in MiB."""
  out = {}
  for line in open("/proc/self/status"):
    key, _, value = line.partition(":")
    if key in ("RssAnon", "RssFile"):
      out[key] = int(value.split()[0]) / 1024
  return out


def synthetic_manifest(n: int, labels: int, groups_per_label: int):
  i = np.arange(n)
  label = i % labels
  group = (i // labels) % groups_per_label
  paths = [f"label{l:05d}/group{g}/img{k:08d}.png"
           for k, l, g in zip(i, label, group)]
  return folder._manifest(  # pylint: disable=protected-access
      paths, paths, [f"label{l:05d}" for l in label],
      [f"label{l:05d}/group{g}" for l, g in zip(label, group)], "synthetic")


def write_cache(path: str, n: int, size: int, seed: int = 0) -> np.ndarray:
  out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8,
                                  shape=(n, size, size))
  rng = np.random.default_rng(seed)
  for lo in range(0, n, 65536):
    hi = min(lo + 65536, n)
    out[lo:hi] = (rng.random((hi - lo, size, size)) < 0.15) * 255
  out.flush()
  del out
  return np.load(path, mmap_mode="r")


def drop_pages(path: str) -> None:
  fd = os.open(path, os.O_RDONLY)
  try:
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
  finally:
    os.close(fd)


def gather_rate(images, sampler, steps) -> float:
  """Items per second of sampler.indices + gather_images over `steps`."""
  t0 = time.perf_counter()
  items = 0
  for step in steps:
    idx = sampler.indices(step)
    items += sampler_lib.gather_images(images, sampler.groups, idx).shape[0] \
        * idx.shape[1] * idx.shape[2]
  return items / (time.perf_counter() - t0)


def array_record_rate(n: int, size: int, batches: int, batch: int,
                      where: str) -> tuple:
  """(array_record items/s, memory-map items/s) of the same random reads."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  class Synthetic(tfds.core.GeneratorBasedBuilder):
    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
      return tfds.core.DatasetInfo(builder=self, features=tfds.features
                                   .FeaturesDict({"image": tfds.features.Tensor(
                                       shape=(size, size), dtype=np.uint8)}))

    def _split_generators(self, dl_manager):
      del dl_manager
      return {"train": self._generate_examples()}

    def _generate_examples(self):
      rng = np.random.default_rng(0)
      for i in range(n):
        yield i, {"image": ((rng.random((size, size)) < 0.15) * 255
                            ).astype(np.uint8)}

  t0 = time.perf_counter()
  builder = Synthetic(data_dir=os.path.join(where, "tfds"),
                      file_format="array_record")
  builder.download_and_prepare()
  print(f"array_record: wrote {n} images in {time.perf_counter() - t0:.1f} s",
        flush=True)
  source = builder.as_data_source("train")
  images = write_cache(os.path.join(where, "small.npy"), n, size)
  rng = np.random.default_rng(1)
  reads = [rng.choice(n, batch, replace=False).tolist()
           for _ in range(batches)]
  source.__getitems__(reads[0])  # open the files
  t0 = time.perf_counter()
  for r in reads:
    np.stack([e["image"] for e in source.__getitems__(r)])
  ar = batches * batch / (time.perf_counter() - t0)
  t0 = time.perf_counter()
  for r in reads:
    images[np.asarray(r)]
  mm = batches * batch / (time.perf_counter() - t0)
  return ar, mm


def main(argv=None):
  p = argparse.ArgumentParser(
      description=__doc__,
      formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--images", type=int, default=2_000_000)
  p.add_argument("--labels", type=int, default=1000)
  p.add_argument("--groups-per-label", type=int, default=4)
  p.add_argument("--image-size", type=int, default=28)
  p.add_argument("--steps", type=int, default=200)
  p.add_argument("--array-record-images", type=int, default=100_000)
  p.add_argument("--decode", default=None,
                 help="a folder dataset whose decode rate to measure")
  p.add_argument("--dir", default=None, help="where to write (default: a "
                 "temporary folder, removed at the end)")
  args = p.parse_args(argv)
  with tempfile.TemporaryDirectory(dir=args.dir) as where:
    if args.decode:
      t0 = time.perf_counter()
      data = folder.load("folder", args.decode, image_size=args.image_size,
                         cache_dir=os.path.join(where, "decode"))
      dt = time.perf_counter() - t0
      print(f"decode {args.decode}: {len(data)} images in {dt:.2f} s = "
            f"{len(data) / dt:.0f} images/s", flush=True)

    n, s = args.images, args.image_size
    before = rss()["RssAnon"]
    manifest = synthetic_manifest(n, args.labels, args.groups_per_label)
    after_manifest = rss()["RssAnon"]
    path = os.path.join(where, "images.npy")
    t0 = time.perf_counter()
    images = write_cache(path, n, s)
    print(f"cache: {n} x {s} x {s} uint8 = {os.path.getsize(path) / 2**30:.2f}"
          f" GiB written in {time.perf_counter() - t0:.1f} s", flush=True)
    held = groups_lib.heldout_label_mask(manifest.label, 0.2, 0)
    groups = groups_lib.given_groups(manifest.label, manifest.group,
                                     np.flatnonzero(~held))
    sampler = sampler_lib.Sampler(groups, classes_per_batch=16,
                                  groups_per_class=2, items_per_group=8,
                                  seed=0)
    after_groups = rss()["RssAnon"]
    print(f"host memory: manifest {after_manifest - before:.0f} MiB "
          f"({(after_manifest - before) * 2**20 / n:.0f} B/image), groups + "
          f"sampler {after_groups - after_manifest:.0f} MiB "
          f"({(after_groups - after_manifest) * 2**20 / n:.0f} B/image)",
          flush=True)
    drop_pages(path)
    cold = gather_rate(images, sampler, range(args.steps))
    mem = rss()
    warm = gather_rate(images, sampler, range(args.steps))
    print(f"gather C=16 x V=2 x M=8 from the memory map: cold {cold:,.0f} "
          f"items/s, warm (same steps) {warm:,.0f} items/s; RssAnon "
          f"{mem['RssAnon']:.0f} MiB, RssFile {mem['RssFile']:.0f} MiB after "
          f"{args.steps} batches", flush=True)
    if args.array_record_images:
      ar, mm = array_record_rate(args.array_record_images, s, args.steps, 256,
                                 where)
      print(f"random reads of 256 images, {args.array_record_images} images: "
            f"TFDS array_record {ar:,.0f} images/s, memory map {mm:,.0f} "
            f"images/s ({mm / ar:.0f}x)", flush=True)


if __name__ == "__main__":
  sys.exit(main())
