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
(timings in the README's "Your own data").
"""
import csv
import dataclasses
import hashlib
import json
import os
import sys
from typing import List, Optional, Tuple

import numpy as np
from tqdm import tqdm

from grouprep.data import images as images_lib
from grouprep.data import omniglot
from grouprep.errors import DataError

SOURCES = ("folder", "csv")
CSV_COLUMNS = ("path", "label", "group")
CACHE_FORMAT = 1  # bump when the decoding rule changes
_SHOWN = 8  # files named in one error message


@dataclasses.dataclass(frozen=True)
class Manifest:
  """N images of a folder tree or CSV manifest, in reading order.

  paths: [N] as the input names them (folder: relative to its root; CSV: as
  written); files: [N] where they are read from; label, group: [N] int32
  indices into label_names / group_names (sorted); group_label: [G] the
  label of each group; where: the folder or CSV file, for messages.
  """
  paths: np.ndarray
  files: np.ndarray
  label: np.ndarray
  group: np.ndarray
  label_names: Tuple[str, ...]
  group_names: Tuple[str, ...]
  group_label: np.ndarray
  where: str

  def __len__(self) -> int:
    return len(self.paths)


@dataclasses.dataclass(frozen=True)
class LabelledImages:
  """A decoded folder / CSV dataset: images [N, S, S] uint8 (strokes bright,
  a read-only memory map of the cache), and the Manifest's label, group,
  paths, label_names, group_names.

  alphabet, character and alphabet_names alias label and label_names: the
  label-agnostic evaluators read those names (few-shot is over labels, the
  note's metric per label)."""
  images: np.ndarray
  label: np.ndarray
  group: np.ndarray
  paths: np.ndarray
  label_names: Tuple[str, ...]
  group_names: Tuple[str, ...]

  def __len__(self) -> int:
    return len(self.images)

  @property
  def alphabet(self) -> np.ndarray:
    return self.label

  @property
  def character(self) -> np.ndarray:
    return self.label

  @property
  def alphabet_names(self) -> Tuple[str, ...]:
    return self.label_names


def first_few(items) -> str:
  """The first few of items, and how many more."""
  items = list(items)
  text = ", ".join(str(i) for i in items[:_SHOWN])
  return text + (f" (and {len(items) - _SHOWN} more)"
                 if len(items) > _SHOWN else "")


def _manifest(paths, files, labels, groups, where) -> Manifest:
  label_names, label = np.unique(np.asarray(labels, str), return_inverse=True)
  group_names, group = np.unique(np.asarray(groups, str), return_inverse=True)
  group_label = np.zeros(len(group_names), np.int64)
  group_label[group] = label
  # (group, label) pairs: a group with two labels appears twice.
  pairs = np.unique(np.stack([group, label]), axis=1)[0]
  mixed = [str(group_names[g]) for g in
           np.flatnonzero(np.bincount(pairs, minlength=len(group_names)) > 1)]
  if mixed:
    raise DataError(f"{where}: a group belongs to one label, but group(s) "
                    f"{first_few(repr(g) for g in mixed)} list items of "
                    f"several labels.")
  return Manifest(paths=np.asarray(paths, str), files=np.asarray(files, str),
                  label=label.astype(np.int32), group=group.astype(np.int32),
                  label_names=tuple(str(n) for n in label_names),
                  group_names=tuple(str(n) for n in group_names),
                  group_label=group_label.astype(np.int32), where=where)


def _visible(names):
  return sorted(n for n in names if not n.startswith("."))


def read_folder(root: str) -> Manifest:
  """The LABEL/GROUP/IMAGE tree under root (labels, groups, files sorted)."""
  if not os.path.isdir(root):
    raise DataError(f"{root} is not a folder (a folder dataset is "
                    f"PATH/LABEL/GROUP/IMAGE).")
  paths, labels, groups, stray, empty = [], [], [], [], []
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
        paths.append(rel)
        labels.append(label)
        groups.append(f"{label}/{group}")
  if stray:
    raise DataError(f"{root}: expected PATH/LABEL/GROUP/IMAGE, but these are "
                    f"not at that depth: {first_few(stray)}.")
  if empty:
    raise DataError(f"{root}: empty group(s): {first_few(empty)}; every group "
                    f"needs at least one image (remove the folder or fill it).")
  if not paths:
    raise DataError(f"{root} holds no images (a folder dataset is "
                    f"PATH/LABEL/GROUP/IMAGE).")
  files = [os.path.join(root, *p.split("/")) for p in paths]
  return _manifest(paths, files, labels, groups, root)


def read_csv(path: str) -> Manifest:
  """The `path,label,group` rows of a CSV file."""
  if not os.path.isfile(path):
    raise DataError(f"{path} is not a file (a CSV dataset is a file of "
                    f"path,label,group rows).")
  base = os.path.dirname(os.path.abspath(path))
  rows, seen = [], {}
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
        if cells[0] in seen:
          raise DataError(f"{path} line {line}: {cells[0]} is listed twice "
                          f"(first on line {seen[cells[0]]}); an image "
                          f"belongs to one group.")
        seen[cells[0]] = line
        rows.append(cells)
  except (OSError, UnicodeDecodeError, csv.Error) as e:
    raise DataError(f"Cannot read {path} as a CSV file: {e}") from None
  if not rows:
    raise DataError(f"{path} lists no images (expected path,label,group "
                    f"rows).")
  paths, labels, groups = zip(*rows)
  files = [p if os.path.isabs(p) else os.path.join(base, p) for p in paths]
  return _manifest(paths, files, labels, groups, path)


def read_manifest(source: str, path: str) -> Manifest:
  """source "folder" | "csv" -> its Manifest; DataError naming what is
  wrong."""
  if not path:
    raise DataError(f"data.source={source!r} reads config.data.path, which "
                    f"is not set.")
  if source == "folder":
    return read_folder(path)
  if source == "csv":
    return read_csv(path)
  raise DataError(f"data.source={source!r} is not one of {SOURCES}.")


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
  for f, lab, grp in zip(manifest.files, manifest.label, manifest.group):
    try:
      st = os.stat(f)
      stamp = f"{st.st_size}:{st.st_mtime_ns}"
    except OSError:
      stamp = "missing"  # read_images names it
    h.update(f"{os.path.abspath(f)}\0{lab}\0{grp}\0{stamp}\n".encode())
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
  tmp = f"{path}.{os.getpid()}.tmp"
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


def load(source: str, path: str, *, image_size: int, strokes: str = "dark",
         cache_dir: Optional[str] = None) -> LabelledImages:
  """A folder or CSV dataset, decoded once to the on-disk cache."""
  manifest = read_manifest(source, path)
  images = decode_to_cache(manifest, image_size, strokes,
                           cache_dir or omniglot.default_cache_dir())
  return LabelledImages(images=images, label=manifest.label,
                        group=manifest.group, paths=manifest.paths,
                        label_names=manifest.label_names,
                        group_names=manifest.group_names)
