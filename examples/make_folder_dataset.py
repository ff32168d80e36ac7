"""Writes a small folder dataset from Omniglot's evaluation alphabets, for
the README's "Your own data" example.

  python examples/make_folder_dataset.py --out=own_data

OUT/LABEL/GROUP/IMAGE.png with label = alphabet and group = one of
--groups-per-label disjoint sets of the alphabet's characters (seeded), each
character with its first --drawings drawings: dark strokes on white 1-bit
PNGs, as Omniglot's own files. Also OUT.csv, the same images as a
path,label,group manifest. Reads TFDS Omniglot's test split (TFDS_DATA_DIR
or --data-dir); nothing else in the example needs it.
"""
import argparse
import csv
import os

import numpy as np
from PIL import Image

from grouprep.data import groups as groups_lib
from grouprep.data import omniglot


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
  if os.path.exists(args.out):
    raise SystemExit(f"{args.out} exists; choose a new --out.")

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
    path = os.path.join(args.out, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # TFDS gives 0/1 in three equal channels, 1 = white background.
    Image.fromarray(examples[i]["image"][..., 0] > 0).save(path)
    rows.append((os.path.join(os.path.basename(os.path.normpath(args.out)),
                              rel), names[alphabet[i]],
                 f"{names[alphabet[i]]}/set{j}"))
  with open(os.path.normpath(args.out) + ".csv", "w", newline="") as f:
    csv.writer(f).writerows([("path", "label", "group")] + rows)
  print(f"Wrote {len(chosen)} images of {len(kept_alphabets)} labels x "
        f"{args.groups_per_label} groups to {args.out}/ and "
        f"{os.path.normpath(args.out)}.csv")


if __name__ == "__main__":
  main()
