"""Raw pixels at the training resolution as an encoder: the floor every
metric of the study is read against, beside the untrained encoder.

The "encoder" flattens each image as the trained encoders receive it
(config.data.image_size px, strokes = 1) into a S·S vector; the library's
own evaluation path (grouprep.evaluate.evaluate_encoder, the evaluators of
the config) measures it in the space and pooling of the configuration it
stands beside (comparisons.PIXEL_ROWS: gi_centroid's unit-norm items and
centroid groups, and gi_medoid's medoid groups, whose floor is far lower),
on the same splits and seeds. Theorem 1 is left out (a margin of pixels
says nothing about training, and 784-d pair blocks cost minutes).

Each row's seed's numbers go to RUNS/RUN/seedS/metrics.json (RUN_NAMES;
default runs/study, beside the study's runs) once, and to the study's
records (results/records/study/RUN/seedS) for a fresh checkout; the study
reads them as the rows of PIXEL_ROWS.

ProtoNet's floor (not in the study: it trains on the Vinyals split):

  python -m projects.group_note.pixels --protonet

evaluates pixels as configs/protonet.py:final's run is evaluated (its
space, its centroid prototypes, Vinyals test, the unseen alphabets, Lake's
runs 09-20) into results/protonet/raw_pixels_metrics.json, which the docs'
ProtoNet block shows beside the trained and the untrained encoder.
"""
import argparse
import json
import os
import sys
from typing import Callable, Dict, Optional, Sequence

import jax
import numpy as np

from grouprep import encoder as encoder_lib
from grouprep import evaluate
from grouprep import sweep
from grouprep.evaluators import common
from grouprep.methods.registry import get_method
from projects.group_note import study
from projects.group_note.comparisons import PIXEL_ROWS, PIXELS, PIXELS_MEDOID

LEFT_OUT = ("theorem1",)
RUN_NAMES = {PIXELS: "raw_pixels", PIXELS_MEDOID: "raw_pixels_medoid"}


def flatten(images) -> np.ndarray:
  """[N, S, S, 1] -> [N, S·S] float32: the identity encoder."""
  x = np.asarray(images, np.float32)
  return x.reshape(len(x), -1)


def pixel_view(config, inputs: evaluate.Inputs) -> common.EncoderView:
  """Pixels as an EncoderView in config's space and pooling."""
  space = encoder_lib.Space.of(get_method(config.loss), config.loss.pooling)
  return common.EncoderView(flatten, space, inputs, config.seed,
                            config.eval.batch_size)


def evaluate_pixels(config) -> Dict:
  """metrics.json of the pixel encoder under config's evaluation: {"config":
  PIXELS, "eval": {split: metrics, ...}, "embedding_space", "image_size",
  "pooling", "seed"}."""
  evals = {n: s for n, s in evaluate.selected(config).items()
           if n not in LEFT_OUT}
  inputs = evaluate.Inputs.of(config, evals)
  with jax.default_matmul_precision(config.eval.matmul_precision):
    result, _ = evaluate.evaluate_encoder(
        pixel_view(config, inputs), inputs.source.eval_splits, evals)
  row = next((r for r, n in PIXEL_ROWS.items() if n == config.name), PIXELS)
  return {"config": row, "eval": result,
          "embedding_space": get_method(config.loss).embedding_space,
          "image_size": int(config.data.image_size),
          "pooling": config.loss.pooling, "seed": int(config.seed),
          "as": config.name, "settings": settings(config)}


def settings(config) -> Dict:
  """What a row's numbers depend on: the data, the space and the
  evaluation (a row of other settings is evaluated again)."""
  return json.loads(json.dumps({
      "data": config.data.to_dict(), "loss": config.loss.to_dict(),
      "eval": config.eval.to_dict(), "evals": config.evals.to_dict()},
                               default=list))


def run(seeds: Sequence[int], runs: str, records: Optional[str] = None,
        make_config: Callable = study.default_config,
        compute: bool = True) -> Dict[str, Dict[int, Dict]]:
  """{row: {seed: the pixel metrics}} of each of PIXEL_ROWS, each computed
  once (kept in RUNS/RUN/seedS/metrics.json, and in RECORDS's same place
  when given, from where a fresh checkout takes it; recomputed where its
  `settings` differ from the config's). compute=False: restored, not
  computed."""
  return {row: _run_row(row, seeds, runs, records, make_config, compute)
          for row in PIXEL_ROWS}


def _run_row(row: str, seeds: Sequence[int], runs: str,
             records: Optional[str], make_config: Callable,
             compute: bool) -> Dict[int, Dict]:
  out = {}
  for seed in seeds:
    config = make_config(PIXEL_ROWS[row])
    with config.unlocked():
      config.seed = seed
    wd = sweep.workdir(runs, RUN_NAMES[row], seed)
    kept = [os.path.join(d, "metrics.json") for d in
            [wd] + ([sweep.workdir(records, RUN_NAMES[row], seed)] if records
                    else [])]
    held = {}
    for path in kept:
      try:
        with open(path) as f:
          held[path] = json.load(f)
      except (OSError, ValueError):  # absent, half-written or conflicted
        continue
    matching = [r for r in held.values()
                if r.get("settings") == settings(config)]
    if matching:
      result = matching[0]
    else:
      if not compute:
        continue
      print(f"{row} seed {seed}: evaluating at "
            f"{config.data.image_size} px", flush=True)
      result = evaluate_pixels(config)
    for path in [p for p in kept if held.get(p) != result]:  # written once
      os.makedirs(os.path.dirname(path), exist_ok=True)
      with open(path + ".tmp", "w") as f:
        json.dump(result, f, indent=1)
      os.replace(path + ".tmp", path)
    out[seed] = result
  return out


def load(runs: str, seeds: Sequence[int]) -> Dict[str, Dict[int, Dict]]:
  """{row: {seed: pixel metrics}} of the rows and seeds already evaluated
  (a row with none is left out)."""
  out = {}
  for row, name in RUN_NAMES.items():
    for seed in seeds:
      path = os.path.join(sweep.workdir(runs, name, seed), "metrics.json")
      if os.path.exists(path):
        with open(path) as f:
          out.setdefault(row, {})[seed] = json.load(f)
  return out


PROTONET_FLOOR = os.path.join("protonet", "raw_pixels_metrics.json")


def protonet_floor(out: str = "results") -> str:
  """Writes OUT/PROTONET_FLOOR: pixels under configs/protonet.py:final's
  evaluation; returns its path."""
  import importlib  # pylint: disable=g-import-not-at-top
  config = importlib.import_module("configs.protonet").get_config("final")
  result = dict(evaluate_pixels(config), config=PIXELS)
  path = os.path.join(out, PROTONET_FLOOR)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path + ".tmp", "w") as f:
    json.dump(result, f, indent=1, sort_keys=True)
  os.replace(path + ".tmp", path)
  return path


def main(argv=None) -> int:
  p = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--protonet", action="store_true", required=True,
                 help="evaluate ProtoNet's raw-pixel floor (the study "
                 "evaluates its own pixel rows itself)")
  p.add_argument("--out", default="results")
  args = p.parse_args(argv)
  print(f"Wrote {protonet_floor(args.out)}.", flush=True)
  return 0


if __name__ == "__main__":
  sys.exit(main())
