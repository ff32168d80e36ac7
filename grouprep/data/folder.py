"""Your own labelled, grouped images: a folder tree or a CSV manifest.

  data.source="folder": PATH/LABEL/GROUP/IMAGE, e.g. alphabets/Greek/set0/a.png
  data.source="csv":    a file of `path,label,group` rows (a header row of
                        exactly those names is optional; relative paths are
                        relative to the CSV's folder)

A group belongs to one label; a folder's group ids are "LABEL/GROUP" (the
same GROUP name under two labels is two groups), a CSV's are its group
column (a group listed under two labels is an error). Hidden files (".*")
are skipped; anything else that is not LABEL/GROUP/IMAGE, or not an image, is
an error naming it.

Decoded once, to disk. Every image is converted by the one rule of
images.py (grayscale, strokes bright, resized to data.image_size) and
written to a memory-mapped .npy, [N, S, S] uint8, in data.cache_dir
(default $GROUPREP_CACHE or ~/.cache/grouprep), named by a hash of the
file list (paths, sizes, modification times), the size and the stroke
convention; the sampler and the evaluators index it like an array, and the
operating system pages in only the rows a batch reads. Why not TFDS: its
folder and CSV builders (tfds.ImageFolder, tfds.folder_dataset) need
tensorflow, which grouprep does not install (`import tensorflow` fails in
this venv), and expect SPLIT/LABEL/IMAGE rather than LABEL/GROUP/IMAGE; a
GeneratorBasedBuilder does write array_record without tensorflow, but each
read then deserialises a record, where a fixed-size uint8 array needs none
(timings: tools/measure_folder_cache.py, its run in results/NOTES.md).
"""
import array
import collections.abc
import csv
import dataclasses
import hashlib
import json
import os
import sys
from typing import List, Optional, Tuple

import numpy as np
from tqdm import tqdm

from grouprep import tempfiles
from grouprep.data import images as images_lib
from grouprep.data import omniglot
from grouprep.errors import DataError

CSV_COLUMNS = ("path", "label", "group")
# 2: files turned upright by their EXIF orientation and read by their
# decoded mode (images.py rule 1). Bump when the decoding rule changes.
CACHE_FORMAT = 2
_SHOWN = 8  # files named in one error message


class Strings(collections.abc.Sequence):
  """N strings held once, in one UTF-8 buffer with [N + 1] offsets: len + 8
  bytes each, where a numpy unicode array takes 4 x the longest string each
  and a list of str ~50 + len. strings[i] is a str, strings[a:b] a list;
  np.asarray(strings) a unicode array. `base`: each string is read as
  os.path.join(base, string) (an absolute string stays as it is)."""

  def __init__(self, buffer, offsets: np.ndarray, base: str = ""):
    self._buffer, self._offsets, self.base = buffer, offsets, base

  def joined(self, base: str) -> "Strings":
    """The same strings read as paths under `base` (no copy)."""
    return Strings(self._buffer, self._offsets, base)

  @property
  def nbytes(self) -> int:
    return len(self._buffer) + self._offsets.nbytes

  def __len__(self) -> int:
    return len(self._offsets) - 1

  def _decode(self, lo: int, hi: int) -> str:
    s = self._buffer[lo:hi].decode("utf-8", "surrogateescape")
    return os.path.join(self.base, s) if self.base else s

  def __getitem__(self, i):
    if isinstance(i, slice):
      return [self[j] for j in range(*i.indices(len(self)))]
    i = range(len(self))[i]  # negative indices, IndexError
    return self._decode(int(self._offsets[i]), int(self._offsets[i + 1]))

  def __iter__(self):
    for lo in range(0, len(self), 65536):
      bounds = self._offsets[lo:lo + 65537].tolist()
      for a, b in zip(bounds[:-1], bounds[1:]):
        yield self._decode(a, b)

  def __array__(self, dtype=None, copy=None):
    del copy  # always a new array
    return np.array(list(self), dtype or str)


@dataclasses.dataclass(frozen=True)
class Manifest:
  """N images of a folder tree or CSV manifest, in reading order.

  paths: [N] as the input names them (folder: relative to its root; CSV: as
  written), held once (Strings); base: the folder relative paths start at;
  files: [N] where they are read from (os.path.join(base, path)); label,
  group: [N] int32 indices into label_names / group_names (sorted);
  group_label: [G] the label of each group; where: the folder or CSV file,
  for messages.
  """
  paths: Strings
  base: str
  label: np.ndarray
  group: np.ndarray
  label_names: Tuple[str, ...]
  group_names: Tuple[str, ...]
  group_label: np.ndarray
  where: str

  def __len__(self) -> int:
    return len(self.paths)

  @property
  def files(self) -> Strings:
    return self.paths.joined(self.base)


@dataclasses.dataclass(frozen=True)
class LabelledImages:
  """A decoded folder / CSV dataset: images [N, S, S] uint8 (strokes bright,
  a read-only memory map of the cache), and the Manifest's label, group,
  paths, label_names, group_names."""
  images: np.ndarray
  label: np.ndarray
  group: np.ndarray
  paths: Strings
  label_names: Tuple[str, ...]
  group_names: Tuple[str, ...]

  def __len__(self) -> int:
    return len(self.images)


def first_few(items) -> str:
  """The first few of items, and how many more."""
  items = list(items)
  text = ", ".join(str(i) for i in items[:_SHOWN])
  return text + (f" (and {len(items) - _SHOWN} more)"
                 if len(items) > _SHOWN else "")


class _Rows:
  """A manifest's rows as they are read, held compactly (the peak memory of
  a large manifest): paths in one UTF-8 buffer, labels and groups as ids in
  order of first appearance, a hash of each path for the duplicate check."""

  def __init__(self):
    self.buffer, self.ends = bytearray(), array.array("q")
    self.hashes = array.array("q")
    self.label, self.group = array.array("i"), array.array("i")
    self.label_ids, self.group_ids = {}, {}

  def __len__(self) -> int:
    return len(self.ends)

  def add(self, path: str, label: str, group: str) -> None:
    self.buffer += path.encode("utf-8", "surrogateescape")
    self.ends.append(len(self.buffer))
    self.hashes.append(hash(path))
    self.label.append(self.label_ids.setdefault(label, len(self.label_ids)))
    self.group.append(self.group_ids.setdefault(group, len(self.group_ids)))

  def paths(self) -> Strings:
    offsets = np.zeros(len(self) + 1, np.int64)
    offsets[1:] = np.frombuffer(self.ends, np.int64)
    return Strings(self.buffer, offsets)

  def repeated(self) -> Optional[Tuple[int, int]]:
    """(first, second) rows of the earliest-repeated path, or None."""
    h = np.frombuffer(self.hashes, np.int64)
    order = np.argsort(h, kind="stable")  # rows ascending within a hash
    h = h[order]
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    ends = np.r_[starts[1:], len(h)]
    paths, found = self.paths(), None
    for lo, hi in zip(starts[ends - starts > 1], ends[ends - starts > 1]):
      seen = {}  # equal hashes: equal paths, or (rarely) a collision
      for row in order[lo:hi].tolist():
        if paths[row] in seen:
          if found is None or row < found[1]:
            found = (seen[paths[row]], row)
          break
        seen[paths[row]] = row
    return found

  def manifest(self, base: str, where: str) -> Manifest:
    """The Manifest: names sorted, label and group ids by sorted name; a
    DataError for a group listed under two labels."""
    def ranked(ids: dict, codes: array.array):
      names = sorted(ids)
      rank = np.empty(len(names), np.int32)
      rank[[ids[n] for n in names]] = np.arange(len(names), dtype=np.int32)
      return tuple(names), rank[np.frombuffer(codes, np.int32)]
    label_names, label = ranked(self.label_ids, self.label)
    group_names, group = ranked(self.group_ids, self.group)
    group_label = np.zeros(len(group_names), np.int32)
    group_label[group] = label
    mixed = np.unique(group[group_label[group] != label])
    if len(mixed):
      raise DataError(f"{where}: a group belongs to one label, but group(s) "
                      f"{first_few(repr(group_names[g]) for g in mixed)} "
                      f"list items of several labels.")
    return Manifest(paths=self.paths(), base=base, label=label, group=group,
                    label_names=label_names, group_names=group_names,
                    group_label=group_label, where=where)


def _visible(names):
  return sorted(n for n in names if not n.startswith("."))


def read_folder(root: str) -> Manifest:
  """The LABEL/GROUP/IMAGE tree under root (labels, groups, files sorted)."""
  if not os.path.isdir(root):
    raise DataError(f"{root} is not a folder (a folder dataset is "
                    f"PATH/LABEL/GROUP/IMAGE).")
  rows, stray, empty = _Rows(), [], []
  for label in _visible(os.listdir(root)):
    label_dir = os.path.join(root, label)
    if not os.path.isdir(label_dir):
      stray.append(label)
      continue
    group_names = _visible(os.listdir(label_dir))
    if not group_names:
      empty.append(f"{label}/ (a label with no GROUP folder)")
    for group in group_names:
      group_dir = os.path.join(label_dir, group)
      if not os.path.isdir(group_dir):
        stray.append(f"{label}/{group}")
        continue
      files = _visible(os.listdir(group_dir))
      if not files:
        empty.append(f"{label}/{group}/")
      for f in files:
        rel = f"{label}/{group}/{f}"
        if os.path.isdir(os.path.join(group_dir, f)):
          stray.append(rel + "/")
          continue
        rows.add(rel, label, f"{label}/{group}")
  if stray:
    raise DataError(f"{root}: expected PATH/LABEL/GROUP/IMAGE, but these are "
                    f"not at that depth: {first_few(stray)}.")
  if empty:
    raise DataError(f"{root}: empty group(s): {first_few(empty)}; every group "
                    f"needs at least one image (remove the folder or fill it).")
  if not len(rows):
    raise DataError(f"{root} holds no images (a folder dataset is "
                    f"PATH/LABEL/GROUP/IMAGE).")
  return rows.manifest(root, root)


def read_csv(path: str) -> Manifest:
  """The `path,label,group` rows of a CSV file."""
  if not os.path.isfile(path):
    raise DataError(f"{path} is not a file (a CSV dataset is a file of "
                    f"path,label,group rows).")
  base = os.path.dirname(os.path.abspath(path))
  rows, lines = _Rows(), array.array("q")
  try:
    with open(path, newline="", encoding="utf-8-sig") as f:
      for line, row in enumerate(csv.reader(f), start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
          continue
        if line == 1 and tuple(c.lower() for c in cells) == CSV_COLUMNS:
          continue  # the header
        if len(cells) != 3 or not all(cells):
          raise DataError(f"{path} line {line}: expected path,label,group "
                          f"(three non-empty fields), got {row!r}.")
        rows.add(*cells)
        lines.append(line)
  except (OSError, UnicodeDecodeError, csv.Error) as e:
    raise DataError(f"Cannot read {path} as a CSV file: {e}") from None
  if not len(rows):
    raise DataError(f"{path} lists no images (expected path,label,group "
                    f"rows).")
  repeated = rows.repeated()
  if repeated:
    first, again = repeated
    raise DataError(f"{path} line {lines[again]}: {rows.paths()[first]} is "
                    f"listed twice (first on line {lines[first]}); an image "
                    f"belongs to one group.")
  del lines
  return rows.manifest(base, path)


def read_images(files, converter: images_lib.Converter, unreadable: List[str],
                progress: Optional[tqdm] = None) -> np.ndarray:
  """[n] image files -> [n, S, S] uint8 (zeros where a file is not a
  readable image: why is appended to `unreadable`, for
  raise_if_unreadable once every file was tried)."""
  out = np.zeros((len(files), converter.image_size, converter.image_size),
                 np.uint8)
  for i, f in enumerate(files):
    try:
      out[i] = converter.one(f)
    except images_lib.ImageReadError as e:
      unreadable.append(str(e))
    if progress is not None:
      progress.update(1)
  return out


def raise_if_unreadable(unreadable: List[str]) -> None:
  """A DataError naming every file that was not a readable image."""
  if unreadable:
    raise DataError(f"{len(unreadable)} file(s) are not readable images: "
                    f"{first_few(unreadable)}. Remove them or fix the "
                    f"manifest.")


def progress_bar(total: int, desc: str) -> tqdm:
  """The progress bar of long reads: redrawn every second on a terminal,
  every 30 s in a log file (as training's)."""
  return tqdm(total=total, desc=desc, unit="img", dynamic_ncols=True,
              mininterval=1.0 if sys.stderr.isatty() else 30.0)


def fingerprint(manifest: Manifest, image_size: int, strokes: str) -> str:
  """A hash of what the decoded images depend on: the files (path, size,
  modification time), the labels and groups, the size and the strokes."""
  h = hashlib.sha256(json.dumps(
      [CACHE_FORMAT, image_size, strokes, manifest.label_names,
       manifest.group_names]).encode())
  files = manifest.paths.joined(os.path.abspath(manifest.base))
  for f, lab, grp in zip(files, manifest.label.tolist(),
                         manifest.group.tolist()):
    try:
      st = os.stat(f)
      stamp = f"{st.st_size}:{st.st_mtime_ns}"
    except OSError:
      stamp = "missing"  # read_images names it
    h.update(f"{f}\0{lab}\0{grp}\0{stamp}\n".encode("utf-8",
                                                    "surrogateescape"))
  return h.hexdigest()[:20]


def decode_to_cache(manifest: Manifest, image_size: int, strokes: str,
                    cache_dir: str) -> np.ndarray:
  """[N, S, S] uint8, a read-only memory map of the decoded images: read
  from the cache when it holds this manifest, else decoded once into it
  (written to a temporary file, then renamed: never half-written)."""
  name = os.path.basename(os.path.normpath(manifest.where))
  key = fingerprint(manifest, image_size, strokes)
  path = os.path.join(cache_dir, f"images-{key}-{image_size}.npy")
  shape = (len(manifest), image_size, image_size)
  if os.path.exists(path):
    try:
      cached = np.load(path, mmap_mode="r")
      if cached.shape == shape and cached.dtype == np.uint8:
        return cached
    except (OSError, ValueError):
      pass  # unreadable: decoded again below
  try:
    os.makedirs(cache_dir, exist_ok=True)
  except OSError as e:
    raise DataError(f"Cannot create the cache folder {cache_dir} "
                    f"(config.data.cache_dir): {e}") from None
  for stale in tempfiles.remove_stale(cache_dir, "images-*.npy"):
    print(f"Removed {stale}, left by a decoding that was killed.",
          file=sys.stderr, flush=True)
  tmp = tempfiles.temporary_path(path)
  converter = images_lib.Converter(image_size, strokes)
  print(f"Decoding {len(manifest)} images of {manifest.where} at "
        f"{image_size}px once; cache: {path}", file=sys.stderr, flush=True)
  try:
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8,
                                    shape=shape)
    unreadable = []
    with progress_bar(len(manifest), f"decoding {name}") as bar:
      for lo in range(0, len(manifest), 1024):
        out[lo:lo + 1024] = read_images(manifest.files[lo:lo + 1024],
                                        converter, unreadable, bar)
    raise_if_unreadable(unreadable)
    out.flush()
    del out
    os.replace(tmp, path)
  except OSError as e:
    raise DataError(f"Cannot write the decoded images to {path} "
                    f"(config.data.cache_dir): {e}") from None
  finally:
    if os.path.exists(tmp):
      os.remove(tmp)
  note = converter.mixed_note(f"the images of {manifest.where}")
  if note:
    print(f"grouprep: warning: {note}", file=sys.stderr, flush=True)
  return np.load(path, mmap_mode="r")


def load(manifest: Manifest, *, image_size: int, strokes: str = "dark",
         cache_dir: Optional[str] = None) -> LabelledImages:
  """A folder or CSV dataset (its Manifest: read_folder, read_csv), decoded
  once to the on-disk cache."""
  images = decode_to_cache(manifest, image_size, strokes,
                           cache_dir or omniglot.default_cache_dir())
  return LabelledImages(images=images, label=manifest.label,
                        group=manifest.group, paths=manifest.paths,
                        label_names=manifest.label_names,
                        group_names=manifest.group_names)
