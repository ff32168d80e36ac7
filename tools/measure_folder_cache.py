"""Measures the folder / CSV data path (grouprep/data/folder.py) at scale.

  python tools/measure_folder_cache.py --images 1000000 [--decode DIR]

1. a CSV manifest of --images rows as a large dataset has them: absolute
   paths ~100 characters long (a temporary folder, then
   home/researcher/datasets/handwriting-scans-2026-11/writer_LLLLL/
   session_GGG/scan_KKKKKKKK.png) to files that exist (hard links of a
   one-byte file, so that each os.stat is a real one); --labels labels of
   --groups-per-label groups. Measured: folder.read_csv's time; the host
   memory the manifest holds afterwards and at its peak while reading
   (RssAnon and VmHWM of /proc/self/status, the peak reset through
   /proc/self/clear_refs), and the Manifest's own arrays; the cache key
   (folder.fingerprint: one os.stat per file, file metadata in the page
   cache as just written); then the groups and the C x V x M sampler of its
   training labels (RssAnon before and after);
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
import gc
import os
import sys
import tempfile
import time

import numpy as np

from grouprep.data import folder
from grouprep.data import groups as groups_lib
from grouprep.data import sampler as sampler_lib


def rss() -> dict:
  """{"RssAnon", "RssFile", "VmRSS", "VmHWM"} of this process in MiB (VmHWM:
  the peak of VmRSS)."""
  out = {}
  for line in open("/proc/self/status"):
    key, _, value = line.partition(":")
    if key in ("RssAnon", "RssFile", "VmRSS", "VmHWM"):
      out[key] = int(value.split()[0]) / 1024
  return out


def reset_peak() -> None:
  """VmHWM := the current RSS (Linux >= 4.0)."""
  with open("/proc/self/clear_refs", "w") as f:
    f.write("5")


def write_manifest(where: str, n: int, labels: int,
                   groups_per_label: int) -> str:
  """A CSV of n path,label,group rows with absolute paths to files that
  exist (hard links, a new one-byte source file every 50,000: ext4 allows
  65,000 links per file); returns its path."""
  root = os.path.join(where, "home", "researcher", "datasets",
                      "handwriting-scans-2026-11")
  csv_path = os.path.join(where, "manifest.csv")
  source = None
  with open(csv_path, "w") as f:
    f.write("path,label,group\n")
    for k in range(n):
      label, group = k % labels, (k // labels) % groups_per_label
      folder_of = os.path.join(root, f"writer_{label:05d}",
                               f"session_{group:03d}")
      if k < labels * groups_per_label:
        os.makedirs(folder_of, exist_ok=True)
      if k % 50000 == 0:
        source = os.path.join(where, f"source{k}.png")
        with open(source, "wb") as s:
          s.write(b"x")
      path = os.path.join(folder_of, f"scan_{k:08d}.png")
      os.link(source, path)
      f.write(f"{path},writer_{label:05d},writer_{label:05d}/"
              f"session_{group:03d}\n")
  return csv_path


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
  p.add_argument("--images", type=int, default=1_000_000)
  p.add_argument("--labels", type=int, default=1000)
  p.add_argument("--groups-per-label", type=int, default=100)
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
    t0 = time.perf_counter()
    csv_path = write_manifest(where, n, args.labels, args.groups_per_label)
    print(f"setup: {n} files and their CSV written in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    gc.collect()
    reset_peak()
    start = rss()
    before = start["RssAnon"]
    t0 = time.perf_counter()
    manifest = folder.read_csv(csv_path)
    read_s = time.perf_counter() - t0
    gc.collect()
    after = rss()
    own = (manifest.paths.nbytes + manifest.label.nbytes +
           manifest.group.nbytes + manifest.group_label.nbytes +
           sum(sys.getsizeof(x) for x in manifest.group_names) +
           sum(sys.getsizeof(x) for x in manifest.label_names))
    mean_len = (manifest.paths.nbytes - 8 * (n + 1)) / n
    print(f"read_csv: {n} rows (absolute paths of {mean_len:.0f} bytes on "
          f"average, {args.labels} labels, "
          f"{len(manifest.group_names)} groups) in {read_s:.2f} s; host "
          f"memory held after: {after['RssAnon'] - before:.0f} MiB "
          f"({(after['RssAnon'] - before) * 2**20 / n:.0f} B/image; the "
          f"Manifest's own arrays and names {own / n:.0f} B/image), peak "
          f"while reading {after['VmHWM'] - start['VmRSS']:.0f} MiB above the"
          f" start ({(after['VmHWM'] - start['VmRSS']) * 2**20 / n:.0f} "
          f"B/image)", flush=True)
    t0 = time.perf_counter()
    folder.fingerprint(manifest, s, "dark")
    print(f"fingerprint (the cache key, one os.stat per file): "
          f"{time.perf_counter() - t0:.2f} s", flush=True)
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
    gc.collect()
    after_groups = rss()["RssAnon"]
    print(f"host memory: groups + sampler {after_groups - after_manifest:.0f}"
          f" MiB ({(after_groups - after_manifest) * 2**20 / n:.0f} "
          f"B/image); RssAnon {after_groups:.0f} MiB in all", flush=True)
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
