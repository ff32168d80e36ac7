"""Statistics over seeds: mean ± sd with n, paired t-intervals, and what
they let a comparison claim (SPEC §5)."""
import numpy as np
import pytest

from grouprep import stats


def test_mean_sd_has_n_and_no_sd_for_one_value():
  s = stats.mean_sd([1.0, 2.0, 4.0])
  assert s["mean"] == pytest.approx(7 / 3) and s["n"] == 3
  assert s["sd"] == pytest.approx(np.std([1.0, 2.0, 4.0], ddof=1))
  one = stats.mean_sd([5.0])
  assert one["n"] == 1 and np.isnan(one["sd"])


def test_paired_difference_is_the_t_interval_of_the_differences():
  a, b = [1.0, 2.0, 4.0], [0.5, 1.0, 1.5]
  d = stats.paired_difference(a, b)
  diffs = np.subtract(a, b)
  half = 4.302652729911275 * diffs.std(ddof=1) / np.sqrt(3)  # t(0.975, 2)
  assert d["mean"] == pytest.approx(diffs.mean())
  assert (d["low"], d["high"]) == pytest.approx(
      (diffs.mean() - half, diffs.mean() + half))
  assert d["measured"] == (d["low"] > 0)
  same = stats.paired_difference([1.0, 2.0, 3.0], [1.1, 1.9, 3.0])
  assert same["low"] < 0 < same["high"] and not same["measured"]
  assert not stats.paired_difference([1.0], [0.0])["measured"]  # n = 1
  # n = 2: the interval is computed but nothing is claimed (SPEC §5: >= 3).
  two = stats.paired_difference([2.0, 2.1], [1.0, 1.0])
  assert two["low"] > 0 and not two["testable"] and not two["measured"]
