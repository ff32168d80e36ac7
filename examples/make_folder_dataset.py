"""Writes a small folder dataset from Omniglot's evaluation alphabets, for
docs/data.md's worked example of training on your own images.

  python examples/make_folder_dataset.py --out=own_data

OUT/LABEL/GROUP/IMAGE.png with label = alphabet and group = one of
--groups-per-label disjoint sets of the alphabet's characters (seeded), each
character with its first --drawings drawings: dark strokes on white 1-bit
PNGs, as Omniglot's own files. Also OUT.csv, the same images as a
path,label,group manifest. Reads TFDS Omniglot's test split (TFDS_DATA_DIR
or --data-dir); nothing else in the example needs it.

Rerunnable: both are written under temporary names and renamed, with a
stamp of the arguments (OUT/.make_folder_dataset.json, hidden, so not
read as data); a second run with the same arguments finds them complete
and writes nothing, one with other arguments rewrites them, and an OUT
that this script did not write is left alone (an error).
"""
import argparse
import csv
import json
import os
import shutil
import sys

import numpy as np
from PIL import Image

from grouprep.data import groups as groups_lib
from grouprep.data import omniglot

STAMP = ".make_folder_dataset.json"


def main(argv=None):
  p = argparse.ArgumentParser(
      description=__doc__,
      formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--out", required=True, help="the folder to write")
  p.add_argument("--alphabets", type=int, default=20,
                 help="how many evaluation alphabets (labels), at most 20")
  p.add_argument("--groups-per-label", type=int, default=3)
  p.add_argument("--drawings", type=int, default=4,
                 help="drawings per character (at most 20)")
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--data-dir", default=None,
                 help="the TFDS data directory (default: TFDS_DATA_DIR)")
  args = p.parse_args(argv)
  out = os.path.normpath(args.out)
  stamp_file = os.path.join(out, STAMP)
  stamp = {k: getattr(args, k) for k in ("alphabets", "groups_per_label",
                                        "drawings", "seed")}
  if os.path.exists(out):
    try:
      with open(stamp_file) as f:
        written = json.load(f)
    except (OSError, ValueError):
      raise SystemExit(f"{out} exists and was not written by this script "
                       f"(no readable {stamp_file}); choose a new --out or "
                       f"remove it.") from None
    if written.get("args") == stamp and os.path.isfile(out + ".csv"):
      print(f"{out}/ and {out}.csv already hold this dataset "
            f"({written.get('images')} images); nothing to do.")
      return
    why = (f"{out}.csv is missing" if written.get("args") == stamp else
           f"it was written with other arguments ({written.get('args')})")
    print(f"Rewriting {out}/: {why}.", file=sys.stderr)
    shutil.rmtree(out)
  partial = out + ".partial"  # what a killed run left
  if os.path.exists(partial):
    shutil.rmtree(partial)

  builder = omniglot.get_builder(args.data_dir, download=False)
  names = builder.info.features["alphabet"].names
  source = builder.as_data_source("test")
  examples = source.__getitems__(list(range(len(source))))
  alphabet = np.array([e["alphabet"] for e in examples])
  character = np.array([e["label"] for e in examples])
  kept_alphabets = np.unique(alphabet)[:args.alphabets]
  # The first --drawings drawings of each character of the kept alphabets.
  chosen, seen = [], {}
  for i in np.flatnonzero(np.isin(alphabet, kept_alphabets)):
    if seen.get(character[i], 0) < args.drawings:
      seen[character[i]] = seen.get(character[i], 0) + 1
      chosen.append(i)
  chosen = np.array(chosen)
  sets = groups_lib.character_sets(alphabet, character, chosen,
                                   args.groups_per_label, args.seed)
  rows = []
  for i, j in zip(chosen, sets):
    rel = os.path.join(names[alphabet[i]], f"set{j}",
                       f"char{character[i]:04d}_{i:05d}.png")
    path = os.path.join(partial, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # TFDS gives 0/1 in three equal channels, 1 = white background.
    Image.fromarray(examples[i]["image"][..., 0] > 0).save(path)
    rows.append((os.path.join(os.path.basename(out), rel),
                 names[alphabet[i]], f"{names[alphabet[i]]}/set{j}"))
  with open(out + ".csv.partial", "w", newline="") as f:
    csv.writer(f).writerows([("path", "label", "group")] + rows)
  with open(os.path.join(partial, STAMP), "w") as f:
    json.dump({"args": stamp, "images": len(chosen)}, f)
  os.replace(out + ".csv.partial", out + ".csv")
  os.rename(partial, out)
  print(f"Wrote {len(chosen)} images of {len(kept_alphabets)} labels x "
        f"{args.groups_per_label} groups to {out}/ and {out}.csv")


if __name__ == "__main__":
  main()
