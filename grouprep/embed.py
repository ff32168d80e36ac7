"""Embed a folder tree or a CSV manifest of images with a trained checkpoint.

  python -m grouprep.embed --workdir=runs/own_data --input=own_data \\
      --out=own_data.npz --metric

--input: a folder PATH/LABEL/GROUP/IMAGE or a CSV file of path,label,group
rows (the rules of grouprep/data/folder.py). --out gets one .npz:

  item_embeddings   [N, D] float32, in the method's embedding space
  item_paths        [N] str, as the input names the files
  item_group        [N] int, the row of each item's group in group_*
  group_embeddings  [G, D] float32, the trained pooling of each group
  group_ids         [G] str, sorted ("LABEL/GROUP" for a folder)
  group_labels      [G] str

the arrays grouprep.load(workdir).embed_items / embed_groups give for the
same images. --metric also prints grouprep.note_metric of the groups as
one JSON line. The .npz is written to a temporary file beside --out and
renamed: a failure leaves no partial file.
"""
import argparse
import json
import os
import sys
import tempfile
from typing import Dict, Optional, Tuple

import numpy as np

from grouprep import api
from grouprep import checkpoints
from grouprep.data import folder
from grouprep.data import images as images_lib
from grouprep.errors import DataError

KEYS = ("item_embeddings", "item_paths", "item_group", "group_embeddings",
        "group_ids", "group_labels")


class OutputError(OSError):
  """--out cannot be written."""


def _temporary_output(out: str) -> str:
  """A new empty file beside `out` (the same file system, so the final
  rename is atomic): proves the folder is writable before any work."""
  folder_of = os.path.dirname(os.path.abspath(out))
  if not os.path.isdir(folder_of):
    raise OutputError(f"Cannot write --out={out}: the folder {folder_of} "
                      f"does not exist.")
  try:
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(out)}.",
                               suffix=".tmp", dir=folder_of)
    os.close(fd)
  except OSError as e:
    raise OutputError(f"Cannot write --out={out}: {e.strerror or e}.") from None
  return tmp


def read_input(path: str) -> folder.Manifest:
  """--input: a folder tree or a CSV manifest, by what the path is."""
  if os.path.isdir(path):
    return folder.read_folder(path)
  if os.path.isfile(path):
    return folder.read_csv(path)
  raise DataError(f"--input={path} does not exist (a folder "
                  f"LABEL/GROUP/IMAGE or a CSV file of path,label,group "
                  f"rows).")


def embed_manifest(enc: api.Encoder, manifest: folder.Manifest,
                   strokes: str = "dark",
                   progress: bool = True) -> Dict[str, np.ndarray]:
  """The .npz's arrays for the images of a manifest, read and embedded
  enc.batch_size at a time (the batches enc.embed_items makes)."""
  converter = images_lib.Converter(enc.image_size, strokes)
  unreadable, raw = [], []
  bar = folder.progress_bar(len(manifest), "embedding") if progress else None
  try:
    for lo in range(0, len(manifest), enc.batch_size):
      pixels = folder.read_images(manifest.files[lo:lo + enc.batch_size],
                                  converter, unreadable, bar)
      if not unreadable:  # nothing to embed once the run will fail
        raw.append(enc.embed_pixels(pixels))
  finally:
    if bar is not None:
      bar.close()
  folder.raise_if_unreadable(unreadable)
  note = converter.mixed_note(f"the images of {manifest.where}")
  if note:
    print(f"grouprep: warning: {note}", file=sys.stderr, flush=True)
  raw = np.concatenate(raw)
  group_ids = np.asarray(manifest.group_names, str)
  return {
      "item_embeddings": enc.items_from_raw(raw),
      "item_paths": np.asarray(manifest.paths, str),
      "item_group": manifest.group.astype(np.int64),
      "group_embeddings": enc.groups_from_raw(raw, manifest.group),
      "group_ids": group_ids,
      "group_labels": np.asarray(manifest.label_names, str)[
          manifest.group_label]}


def run(workdir: str, input_path: str, out: str, *, strokes: str = "dark",
        metric: bool = False, batch_size: Optional[int] = None,
        progress: bool = True) -> Tuple[Dict[str, np.ndarray],
                                        Optional[Dict[str, float]]]:
  """Embeds --input with the checkpoint of --workdir into --out; returns
  (the arrays written, note_metric of the groups or None)."""
  if strokes not in images_lib.STROKES:
    raise DataError(f"--strokes={strokes!r} is not one of "
                    f"{images_lib.STROKES}.")
  tmp = _temporary_output(out)
  try:
    manifest = read_input(input_path)
    enc = api.load(workdir, batch_size=batch_size)
    arrays = embed_manifest(enc, manifest, strokes, progress)
    stats = None
    if metric:
      stats = api.note_metric(arrays["group_embeddings"],
                              arrays["group_labels"])
    try:
      with open(tmp, "wb") as f:
        np.savez(f, **arrays)
      os.replace(tmp, out)
    except OSError as e:
      raise OutputError(f"Cannot write --out={out}: {e}") from None
  finally:
    if os.path.exists(tmp):
      os.remove(tmp)
  return arrays, stats


def main(argv=None) -> int:
  p = argparse.ArgumentParser(
      prog="python -m grouprep.embed", description=__doc__,
      formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--workdir", required=True,
                 help="the run whose latest checkpoint embeds")
  p.add_argument("--input", required=True,
                 help="a folder LABEL/GROUP/IMAGE or a CSV of "
                      "path,label,group rows")
  p.add_argument("--out", required=True, help="the .npz to write")
  p.add_argument("--metric", action="store_true",
                 help="also print the note's metric of the groups (JSON)")
  p.add_argument("--strokes", default="dark", choices=images_lib.STROKES,
                 help="dark strokes on a light background (default) or "
                      "bright on dark")
  p.add_argument("--batch-size", type=int, default=None,
                 help="images per forward pass (default: the config's "
                      "eval.batch_size)")
  args = p.parse_args(argv)
  try:
    arrays, stats = run(args.workdir, args.input, args.out,
                        strokes=args.strokes, metric=args.metric,
                        batch_size=args.batch_size)
  except (DataError, OutputError, checkpoints.CheckpointError,
          ValueError) as e:
    print(f"grouprep: error: {e}", file=sys.stderr)
    return 2
  n, d = arrays["item_embeddings"].shape
  print(f"Wrote {n} item and {len(arrays['group_ids'])} group embeddings "
        f"({d}-d) to {args.out}.", file=sys.stderr)
  if stats is not None:
    print(json.dumps(stats))
  return 0


if __name__ == "__main__":
  sys.exit(main())
