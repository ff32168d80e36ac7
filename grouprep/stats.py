"""Statistics over seeds: mean ± sd with n, and paired differences with their
95% t-interval, as SPEC §5 asks a comparison to be made.

  stats.mean_sd([0.43, 0.44, 0.44])          # {"mean", "sd", "n"}
  stats.paired_difference(a_by_seed, b_by_seed)  # a - b, paired by seed

A difference is *testable* with at least MIN_SEEDS paired seeds and
*measured* when it is testable and its interval excludes 0; otherwise the
honest reading is "no measurable difference" (or "untested").
"""
from typing import Dict, Sequence

import numpy as np

from grouprep import metrics

# SPEC §5: a difference is claimed only over >= 3 seeds.
MIN_SEEDS = 3


def mean_sd(values: Sequence[float]) -> Dict:
  """{"mean", "sd" (ddof 1; NaN for one value), "n"}."""
  x = np.asarray(values, np.float64)
  return {"mean": float(x.mean()),
          "sd": float(x.std(ddof=1)) if len(x) > 1 else float("nan"),
          "n": int(len(x))}


def paired_difference(a: Sequence[float], b: Sequence[float]) -> Dict:
  """Mean of a - b over paired seeds with its 95% t-interval (n - 1 degrees
  of freedom): {"mean", "n", "low", "high", "testable" (n >= MIN_SEEDS),
  "measured" (testable and the interval excludes 0)}."""
  d = np.asarray(a, np.float64) - np.asarray(b, np.float64)
  t = metrics.t_interval(d)
  low, high = t["mean"] - t["ci95"], t["mean"] + t["ci95"]
  testable = t["n"] >= MIN_SEEDS
  return {"mean": t["mean"], "n": t["n"], "low": low, "high": high,
          "testable": testable,
          "measured": bool(testable and (low > 0 or high < 0))}
