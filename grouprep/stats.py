"""Statistics over seeds: mean ± sd with n, and paired differences with their
95% t-interval, as SPEC §5 asks a comparison to be made.

  stats.mean_sd([0.43, 0.44, 0.44])          # {"mean", "sd", "n"}
  stats.paired_difference(a_by_seed, b_by_seed)  # a - b, paired by seed
  stats.welch_difference(a_mean_sd, b_mean_sd)  # a - b, unpaired runs
  stats.bh_qvalues(p_values)                 # Benjamini-Hochberg q-values
  stats.wilson_interval(successes, n)        # 95% interval of a proportion

A difference is *testable* with at least MIN_SEEDS paired seeds and
*measured* when it is testable and its interval excludes 0; otherwise the
honest reading is "no measurable difference" (or "untested"). Over a family
of comparisons, `bh_qvalues` controls the false discovery rate: a
difference is then claimed where its q-value is below 0.05.
"""
import math
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
  p = t_test_p(d)
  return {"mean": t["mean"], "n": t["n"], "low": low, "high": high,
          "p": p, "testable": testable,
          "measured": bool(testable and not math.isnan(p)
                           and (low > 0 or high < 0))}


def welch_difference(a: Dict, b: Dict) -> Dict:
  """Mean of a minus mean of b for two sets of unpaired runs, each given as
  mean_sd's {"mean", "sd", "n"}, with Welch's 95% t-interval and two-sided
  p (Welch-Satterthwaite degrees of freedom, rounded down: a little wider
  than the exact interval, never narrower): {"mean", "low", "high", "p",
  "df", "testable" (n >= MIN_SEEDS on both sides), "measured" (testable and
  the interval excludes 0)}. NaN interval and p where either n < 2, both
  sds are 0 (no spread: the test does not apply) or a mean is NaN."""
  diff = a["mean"] - b["mean"]
  va, vb = (a["sd"] ** 2 / a["n"] if a["n"] > 1 else math.nan,
            b["sd"] ** 2 / b["n"] if b["n"] > 1 else math.nan)
  se = math.sqrt(va + vb)
  testable = min(a["n"], b["n"]) >= MIN_SEEDS
  if not (se > 0 and math.isfinite(diff)):  # n < 2, no spread, a NaN mean
    return {"mean": diff, "low": math.nan, "high": math.nan, "p": math.nan,
            "df": math.nan, "testable": testable, "measured": False}
  df = se ** 4 / (va ** 2 / (a["n"] - 1) + vb ** 2 / (b["n"] - 1))
  k = max(1, int(math.floor(df + 1e-9)))
  half = metrics.t_quantile_975(k) * se
  p = float(max(0.0, 1.0 - metrics.t_within(abs(diff) / se, k)))
  return {"mean": diff, "low": diff - half, "high": diff + half, "p": p,
          "df": k, "testable": testable,
          "measured": bool(testable and (diff - half > 0 or diff + half < 0))}


def t_test_p(differences: Sequence[float]) -> float:
  """Two-sided p-value of the one-sample t-test of mean 0 (n - 1 degrees of
  freedom; NaN for fewer than 2 values; 1 when they are all 0; NaN when
  every difference is the same non-zero number: with no spread the t-test
  does not apply, and a metric in coarse steps, such as Lake's error in
  steps of 1/400, can give equal differences at 3 seeds by chance, which
  p = 0 would call measured however small)."""
  d = np.asarray(differences, np.float64)
  if len(d) < 2:
    return float("nan")
  sd = d.std(ddof=1)
  if sd <= 1e-9 * abs(d.mean()):  # equal up to float rounding
    return 1.0 if d.mean() == 0 else float("nan")
  t = abs(d.mean()) / (sd / math.sqrt(len(d)))
  return float(max(0.0, 1.0 - metrics.t_within(t, len(d) - 1)))


def bh_qvalues(p_values: Sequence[float]) -> np.ndarray:
  """Benjamini-Hochberg adjusted p-values (q-values) of a family of m
  tests: q_(i) = min over j >= i of m p_(j) / j in ascending order of p,
  capped at 1; NaN p-values (untestable comparisons) stay NaN and do not
  count in m. [m] -> [m]."""
  p = np.asarray(p_values, np.float64)
  q = np.full_like(p, np.nan)
  ok = np.flatnonzero(~np.isnan(p))
  if len(ok) == 0:
    return q
  order = ok[np.argsort(p[ok], kind="stable")]
  scaled = p[order] * len(ok) / np.arange(1, len(ok) + 1)
  q[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
  return q


def wilson_interval(successes: int, n: int, z: float = 1.959964):
  """The Wilson score interval (low, high) of a binomial proportion, 95 % by
  default: the interval for one accuracy over n independent trials (e.g. n
  test sets), which, unlike the normal approximation, stays inside [0, 1]
  at 0 or n successes. (0, 1) for n = 0."""
  if n == 0:
    return (0.0, 1.0)
  if not 0 <= successes <= n:
    raise ValueError(f"successes={successes} is not in [0, n={n}]")
  p = successes / n
  centre = (p + z * z / (2 * n)) / (1 + z * z / n)
  half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
  return (max(0.0, centre - half), min(1.0, centre + half))
