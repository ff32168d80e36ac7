"""The error on Lake et al.'s 20 one-shot runs: 1-nearest neighbour of each
test drawing among the 20 training drawings (Lake's rule), in the method's
space. Vinyals-trained encoders are scored on runs 09-20 only (data/lake.py;
the source's lake_runs_excluded).

Settings (config.evals.lake): runs, the path of all_runs.zip (None:
../shared/omniglot/all_runs.zip)."""
import os

import numpy as np

from grouprep import metrics
from grouprep.data import lake as lake_data
from grouprep.evaluators.common import check

SETTINGS = ("runs",)


def validate(settings, field: str) -> None:
  check(not settings.runs or os.path.exists(settings.runs), f"{field}.runs",
        settings.runs, "an existing file (None: ../shared/omniglot/"
        "all_runs.zip)")


def result_key(excluded) -> str:
  """metrics.json's name of the error on the runs left after `excluded`."""
  return "lake_one_shot_error_runs09_20" if excluded else "lake_one_shot_error"


def lake_error(runs, featurize) -> float:
  """Mean over runs of the 1-nearest-neighbour error.

  featurize: images [N, S, S] uint8 -> features [N, F], called once.
  """
  feats = featurize(np.concatenate([np.concatenate([tr, te])
                                    for tr, te, _ in runs]))
  errors, lo = [], 0
  for train, test, label in runs:
    f_train = feats[lo:lo + len(train)]
    f_test = feats[lo + len(train):lo + len(train) + len(test)]
    lo += len(train) + len(test)
    errors.append(metrics.nearest_neighbour_error(f_test, f_train, label))
  return float(np.mean(errors))


def as_input(images: np.ndarray) -> np.ndarray:
  """uint8 [N, S, S] -> the encoder's input [N, S, S, 1] in [0, 1]."""
  return images[..., None].astype(np.float32) / 255.0


def run_encoder(encoder, settings) -> dict:
  del settings  # the runs are the inputs'
  runs = encoder.inputs.lake_runs()
  if runs is None:
    return {}
  return {result_key(encoder.inputs.source.lake_runs_excluded): lake_error(
      runs, lambda x: encoder.space.items(encoder.embed(as_input(x))))}


def run_data(inputs, settings) -> dict:
  """metrics.json's entries of the runs themselves: Lake's pixel baseline
  on them, or why they were not found."""
  del settings
  if not inputs.lake_path:
    return {"lake_one_shot_error_skipped": (
        f"../shared/{lake_data.RUNS_FILE} not found; set "
        f"--config.evals.lake.runs.")}
  # Raw pixels at full resolution, as in Lake et al.'s pixel baseline.
  key = result_key(inputs.source.lake_runs_excluded) + "_raw_pixels"
  return {key: raw_pixels(inputs.lake_runs(105))}


def raw_pixels(runs) -> float:
  """Lake et al.'s pixel baseline: the same rule on raw pixels (105 px)."""
  return lake_error(
      runs, lambda x: x.reshape(len(x), -1).astype(np.float32) / 255)
