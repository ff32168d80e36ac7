"""What a lower matmul precision does to a trained encoder's medoid groups:
embeds Omniglot's unseen alphabets (TFDS test, upright) with the encoder of
WORKDIR at `highest` precision and at each other precision, and reports
how often the medoid of a group changes and how far the embeddings move.

  python tools/precision_effect.py --workdir runs/gi_medoid \
      --precisions high,default,bf16 [--out effect.json]

Groups: each character's 20 drawings, and each alphabet's drawings. A
precision is one of jax.default_matmul_precision's names (on NVIDIA GPUs
`high` and `default` are TF32; on CPUs every name is float32), or `bf16`:
the encoder's variables and images cast to bfloat16, so every convolution
and matmul runs in bfloat16, as on a TPU or in a bf16 training recipe. The
medoid is chosen in float64 NumPy from the embeddings in the method's space
(the distances every metric uses), so only the encoder's precision differs.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def medoids(items: np.ndarray, members) -> np.ndarray:
  """Index (into each group) of the member with the least summed distance."""
  out = []
  for idx in members:
    x = items[idx].astype(np.float64)
    d = np.sqrt(np.maximum(((x[:, None] - x[None]) ** 2).sum(-1), 0))
    out.append(int(np.argmin(d.sum(1))))
  return np.array(out)


def embed(enc, pixels: np.ndarray, precision: str) -> np.ndarray:
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  from grouprep.data import images as images_lib  # pylint: disable=g-import-not-at-top
  b = enc.batch_size
  if precision == "bf16":
    cast = lambda t: jax.tree.map(lambda a: jnp.asarray(a, jnp.bfloat16), t)
    variables = cast(enc._variables)  # pylint: disable=protected-access
    apply = jax.jit(lambda v, x: enc._model.apply(  # pylint: disable=protected-access
        v, x.astype(jnp.bfloat16), train=False).astype(jnp.float32))
    raw = np.concatenate([np.asarray(apply(variables, images_lib.to_float(
        pixels[i:i + b])[..., None])) for i in range(0, len(pixels), b)])
  else:
    enc.config.eval.matmul_precision = precision
    raw = np.concatenate([enc.embed_pixels(pixels[i:i + b])
                          for i in range(0, len(pixels), b)])
  return enc.items_from_raw(raw)


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--workdir", required=True)
  p.add_argument("--precisions", default="high,default,bf16")
  p.add_argument("--max-characters", type=int, default=0,
                 help="the first N characters only (0: all 659)")
  p.add_argument("--out", default=None)
  args = p.parse_args(argv)
  import jax  # pylint: disable=g-import-not-at-top
  import grouprep  # pylint: disable=g-import-not-at-top
  from grouprep.data import omniglot  # pylint: disable=g-import-not-at-top
  enc = grouprep.load(args.workdir)
  split = omniglot.load_split("test", image_size=enc.image_size)
  keep = np.arange(len(split.images))
  if args.max_characters:
    keep = np.flatnonzero(split.character < np.unique(split.character)[
        args.max_characters])
  pixels = split.images[keep]
  groupings = {
      "character (20 drawings)": split.character[keep],
      "alphabet (all its drawings)": split.alphabet[keep]}
  members = {k: [np.flatnonzero(v == g) for g in np.unique(v)]
             for k, v in groupings.items()}
  ref = embed(enc, pixels, "highest")
  ref_medoids = {k: medoids(ref, m) for k, m in members.items()}
  rows = []
  for precision in args.precisions.split(","):
    z = embed(enc, pixels, precision)
    row = {"precision": precision, "platform": jax.default_backend(),
           "device": jax.devices()[0].device_kind, "workdir": args.workdir,
           "config": enc.config.name, "step": enc.step,
           "embedding_space": enc.embedding_space, "items": len(pixels),
           "max_abs_embedding_change": float(np.abs(z - ref).max()),
           "median_rel_embedding_change": float(np.median(
               np.linalg.norm(z - ref, axis=1) /
               np.maximum(np.linalg.norm(ref, axis=1), 1e-12)))}
    for k, m in members.items():
      changed = medoids(z, m) != ref_medoids[k]
      row[f"medoid_changed {k}"] = {"groups": len(m),
                                    "changed": int(changed.sum()),
                                    "fraction": float(changed.mean())}
    rows.append(row)
    print(json.dumps(row), flush=True)
  if args.out:
    with open(args.out, "w") as f:
      json.dump(rows, f, indent=2)
  return 0


if __name__ == "__main__":
  sys.exit(main())
