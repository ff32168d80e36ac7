"""The faster evaluation computes exactly what the slower one did: each
rewritten metric against its reference (tests/reference_metrics.py) bit for
bit, and a whole metrics.json of a trained checkpoint evaluated both ways
(`results/compare_metrics.py` did the same on the 500-step gi_centroid
checkpoint: 642 of 642 leaves identical)."""
import json
import os

import numpy as np
import pytest

import reference_metrics
from conftest import tiny_config
from grouprep import metrics


def _items(groups=13, dim=16, seed=0):
  rng = np.random.default_rng(seed)
  sizes = rng.integers(1, 40, groups)  # uneven groups, one of a single item
  sizes[3] = 1
  x = rng.normal(size=(int(sizes.sum()), dim)).astype(np.float32)
  x /= np.linalg.norm(x, axis=1, keepdims=True)
  return x, np.r_[0, np.cumsum(sizes)]


# Not chunk=1: BLAS multiplies a single row by another kernel (matrix-vector),
# which rounds differently; the implementation never cuts one-row chunks.
@pytest.mark.parametrize("chunk", [2, 7, 512, 100_000])
def test_distance_extremes_equal_the_reference_bit_for_bit(chunk):
  x, offsets = _items()
  far, near = metrics._distance_extremes(x, offsets, chunk=chunk)
  ref_far, ref_near = reference_metrics.distance_extremes(x, offsets)
  np.testing.assert_array_equal(far, ref_far)
  np.testing.assert_array_equal(near, ref_near)
  assert far.dtype == ref_far.dtype == np.float32


@pytest.mark.parametrize("chunk", [3, 1000, 65536])
def test_ordered_triplet_fraction_equals_the_reference(chunk):
  x, offsets = _items(groups=8)
  label = np.repeat(np.arange(8) // 2, np.diff(offsets))
  drawing = np.arange(len(x)) % 17
  for triplets in (1, 999, 5000):
    assert metrics.ordered_triplet_fraction(
        x, label, triplets, seed=3, item_drawing=drawing, chunk=chunk) == \
        reference_metrics.ordered_triplet_fraction(
            x, label, triplets, seed=3, item_drawing=drawing)


@pytest.mark.slow
def test_metrics_json_is_identical_to_the_slower_codes(tmp_path, fake_data):
  """Every evaluator on a trained checkpoint (the tiny config on the fake
  splits), once with the faster functions and once with the slower ones."""
  from grouprep import evaluate, train  # pylint: disable=g-import-not-at-top
  config = tiny_config("gi_centroid")
  wd = str(tmp_path / "wd")
  train.train(config, wd)

  def evaluated():
    evaluate.evaluate(config, wd)
    with open(os.path.join(wd, "metrics.json")) as f:
      out = json.load(f)
    out.pop("eval_seconds")
    return out

  fast = evaluated()
  assert fast["eval"]["unseen_alphabets"]["theorem1"]["num_items"] > 1
  with pytest.MonkeyPatch.context() as patch:
    patch.setattr(metrics, "_distance_extremes",
                  reference_metrics.distance_extremes)
    patch.setattr(metrics, "ordered_triplet_fraction",
                  reference_metrics.ordered_triplet_fraction)
    slow = evaluated()
  assert fast == slow
