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
one JSON line, per set of labels by what the checkpoint trained on
(`metric_by_label_set`): only "heldout_labels" and "new_labels" measure
the encoder on labels it never saw; "trained_labels" is a training-set
figure. The .npz is written to a temporary file beside --out and renamed
(with a new file's permissions): a failure leaves no partial file, and the
next run removes a temporary file that a killed run left.
"""
import argparse
import glob
import json
import os
import sys
from typing import Dict, Optional, Tuple

import numpy as np

from grouprep import api
from grouprep import errors
from grouprep import tempfiles
from grouprep.data import folder
from grouprep.data import images as images_lib
from grouprep.errors import DataError

KEYS = ("item_embeddings", "item_paths", "item_group", "group_embeddings",
        "group_ids", "group_labels")


class OutputError(errors.GroupRepError, OSError):
  """--out cannot be written."""


def _temporary_output(out: str) -> str:
  """A new empty file beside `out` (the same file system, so the final
  rename is atomic): proves the folder is writable before any work. A
  temporary file of `out` that a killed run left is removed first."""
  folder_of = os.path.dirname(os.path.abspath(out))
  if not os.path.isdir(folder_of):
    raise OutputError(f"Cannot write --out={out}: the folder {folder_of} "
                      f"does not exist.")
  final = os.path.join(folder_of, os.path.basename(out))
  for stale in tempfiles.remove_stale(
      folder_of, glob.escape(os.path.basename(out)), hidden=True):
    print(f"Removed {stale}, left by a run that was killed.",
          file=sys.stderr, flush=True)
  try:
    return tempfiles.create(final, hidden=True)
  except OSError as e:
    raise OutputError(f"Cannot write --out={out}: {e.strerror or e}.") from None


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
                   strokes: Optional[str] = None,
                   progress: bool = True) -> Dict[str, np.ndarray]:
  """The .npz's arrays for the images of a manifest, read and embedded
  enc.batch_size at a time (the batches enc.embed_items makes); strokes:
  default the checkpoint's (enc.strokes)."""
  converter = images_lib.Converter(enc.image_size, strokes or enc.strokes)
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


def metric_by_label_set(enc: api.Encoder, group_embeddings: np.ndarray,
                        group_labels: np.ndarray) -> Dict[str, Dict]:
  """note_metric of the groups, one entry per set of labels by what the
  checkpoint trained on (its dataset summary, by label name):

    "heldout_labels": its held-out labels, never trained on;
    "trained_labels": labels it trained on (a training-set figure, not an
                      evaluation);
    "new_labels":     labels absent from its training data;

  each {"same_label_mean", "diff_label_mean", "ratio", "num_labels",
  "num_groups"}, or, where a set has no same-label or no different-label
  pair, {"num_labels", "num_groups", "not_computed": why}; a set without
  groups is left out. A checkpoint that recorded no labels (Omniglot, or
  written before grouprep stored them): {"all_labels": ..., "trained_on":
  "unknown: ..."}."""
  labels = np.asarray(group_labels, str)
  dataset = enc.dataset or {}
  if "labels" not in dataset:
    sets = {"all_labels": np.ones(len(labels), bool)}
  else:
    held = np.isin(labels, dataset.get("heldout_labels", []))
    known = np.isin(labels, dataset["labels"])
    sets = {"heldout_labels": held, "trained_labels": known & ~held,
            "new_labels": ~known}
  out = {}
  for name, rows in sets.items():
    if not rows.any():
      continue
    sizes = {"num_labels": int(len(np.unique(labels[rows]))),
             "num_groups": int(rows.sum())}
    try:
      out[name] = {**api.note_metric(group_embeddings[rows], labels[rows]),
                   **sizes}
    except ValueError as e:
      out[name] = {**sizes, "not_computed": str(e)}
  if "labels" not in dataset:
    source = dataset.get("source", "not recorded")
    out["trained_on"] = (
        f"unknown: the checkpoint records no label names of its training "
        f"data (data.source: {source}), so these groups may mix labels it "
        f"trained on with labels it never saw")
  return out


def run(workdir: str, input_path: str, out: str, *,
        strokes: Optional[str] = None, metric: bool = False,
        batch_size: Optional[int] = None,
        progress: bool = True) -> Tuple[Dict[str, np.ndarray],
                                        Optional[Dict[str, Dict]]]:
  """Embeds --input with the checkpoint of --workdir into --out; returns
  (the arrays written, metric_by_label_set of the groups or None).
  strokes: default the checkpoint's training data's (config.data.strokes)."""
  if strokes is not None and strokes not in images_lib.STROKES:
    raise DataError(f"--strokes={strokes!r} is not one of "
                    f"{images_lib.STROKES}.")
  tmp = _temporary_output(out)
  try:
    manifest = read_input(input_path)
    enc = api.load(workdir, batch_size=batch_size)
    arrays = embed_manifest(enc, manifest, strokes, progress)
    stats = None
    if metric:
      stats = metric_by_label_set(enc, arrays["group_embeddings"],
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


def _positive_int(text: str) -> int:
  try:
    value = int(text)
  except ValueError:
    value = 0
  if value < 1:
    raise argparse.ArgumentTypeError(f"{text!r} is not an integer >= 1")
  return value


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
                 help="also print the note's metric of the groups (JSON), "
                      "per set of labels: held out by the checkpoint, "
                      "trained on, or new to it")
  p.add_argument("--strokes", default=None, choices=images_lib.STROKES,
                 help="dark strokes on a light background or bright on "
                      "dark (default: as the checkpoint's training data, "
                      "config.data.strokes)")
  p.add_argument("--batch-size", type=_positive_int, default=None,
                 help="images per forward pass, >= 1 (default: the "
                      "config's eval.batch_size)")
  args = p.parse_args(argv)
  try:
    arrays, stats = run(args.workdir, args.input, args.out,
                        strokes=args.strokes, metric=args.metric,
                        batch_size=args.batch_size)
  except errors.GroupRepError as e:
    print(f"grouprep: error: {e}", file=sys.stderr)
    return 2
  n, d = arrays["item_embeddings"].shape
  print(f"Wrote {n} item and {len(arrays['group_ids'])} group embeddings "
        f"({d}-d) to {args.out}.", file=sys.stderr)
  if stats is not None:
    if "trained_on" in stats:
      print(f"grouprep: note: the note's metric below is over every group; "
            f"which labels the checkpoint trained on is {stats['trained_on']}"
            f".", file=sys.stderr)
    else:
      print("grouprep: the note's metric below, per set of labels: "
            "heldout_labels (held out by the checkpoint: never trained on), "
            "trained_labels (trained on: a training-set figure, not an "
            "evaluation), new_labels (not in its training data).",
            file=sys.stderr)
    print(json.dumps(stats))
  return 0


if __name__ == "__main__":
  sys.exit(main())
