"""What a lower matmul precision does to a trained encoder's medoid groups:
embeds Omniglot's unseen alphabets (TFDS test, upright) with the encoder of
WORKDIR at `highest` precision and at each other precision, and reports
how often the medoid of a group changes and how far the embeddings move.

  python tools/precision_effect.py --workdir runs/gi_medoid \
      --precisions high,default,bf16 [--out effect.json]

Groups: each character's 20 drawings, and each alphabet's drawings. A
precision is one of platform.PRECISIONS (on NVIDIA GPUs `high` and
`default` are TF32; on CPUs every one is float32), or `bf16`: the encoder's
variables and images cast to bfloat16, so the whole forward pass
(activations and BatchNorm too) runs in bfloat16, an upper bound on what a
bf16 matmul policy changes. The medoid is chosen as the method chooses it
(pooling.medoid_index on the pooling's input: raw outputs for a method that
pools in its loss, else items in its space), at `highest` precision, so
only the encoder's precision differs between rows.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def medoids(pool_input: np.ndarray, members) -> np.ndarray:
  """The medoid's index within each group (pooling.medoid_index)."""
  import jax  # pylint: disable=g-import-not-at-top
  from grouprep import pooling  # pylint: disable=g-import-not-at-top
  with jax.default_matmul_precision("highest"):
    return np.array([int(pooling.medoid_index(pool_input[idx]))
                     for idx in members])


def raw_outputs(enc, pixels: np.ndarray, bf16: bool = False) -> np.ndarray:
  """The encoder's raw outputs [N, D] of uint8 pixels [N, S, S]."""
  b = enc.batch_size
  if not bf16:
    return np.concatenate([enc.embed_pixels(pixels[i:i + b])
                           for i in range(0, len(pixels), b)])
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  from grouprep import models  # pylint: disable=g-import-not-at-top
  from grouprep.data import images as images_lib  # pylint: disable=g-import-not-at-top
  model = models.create_model(enc.config.model)
  variables = jax.tree.map(lambda a: jnp.asarray(a, jnp.bfloat16),
                           enc._variables)  # pylint: disable=protected-access
  apply = jax.jit(lambda v, x: model.apply(
      v, x.astype(jnp.bfloat16), train=False).astype(jnp.float32))
  return np.concatenate([np.asarray(apply(variables, images_lib.to_float(
      pixels[i:i + b])[..., None])) for i in range(0, len(pixels), b)])


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
  # What the method pools: raw outputs, or items in its space.
  pool_input = enc._space.pool_input  # pylint: disable=protected-access
  ref = raw_outputs(enc, pixels)
  ref_medoids = {k: medoids(pool_input(ref), m) for k, m in members.items()}
  rows = []
  for precision in args.precisions.split(","):
    z = (raw_outputs(enc, pixels, bf16=True) if precision == "bf16" else
         raw_outputs(grouprep.load(args.workdir, precision=precision), pixels))
    row = {"precision": precision, "platform": jax.default_backend(),
           "device": jax.devices()[0].device_kind, "workdir": args.workdir,
           "config": enc.config.name, "step": enc.step,
           "medoid_chosen_on": "raw outputs" if enc._space.pools_in_loss  # pylint: disable=protected-access
                               else f"{enc.embedding_space} items",
           "items": len(pixels),
           "max_abs_embedding_change": float(np.abs(z - ref).max()),
           "median_rel_embedding_change": float(np.median(
               np.linalg.norm(z - ref, axis=1) /
               np.maximum(np.linalg.norm(ref, axis=1), 1e-12)))}
    for k, m in members.items():
      changed = medoids(pool_input(z), m) != ref_medoids[k]
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
