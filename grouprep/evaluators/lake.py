"""The error on Lake et al.'s 20 one-shot runs: 1-nearest neighbour of each
test drawing among the 20 training drawings (Lake's rule), in the method's
space. Vinyals-trained encoders are scored on runs 09-20 only (data/lake.py)."""
import numpy as np

from grouprep import metrics


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


def run_encoder(encoder) -> dict:
  runs = encoder.inputs.lake_runs()
  if runs is None:
    return {}
  return {encoder.inputs.lake_key: lake_error(
      runs, lambda x: encoder.space.items(encoder.embed(as_input(x))))}


def raw_pixels(runs) -> float:
  """Lake et al.'s pixel baseline: the same rule on raw pixels (105 px)."""
  return lake_error(
      runs, lambda x: x.reshape(len(x), -1).astype(np.float32) / 255)
