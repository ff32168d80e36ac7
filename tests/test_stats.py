"""Statistics over seeds: mean ± sd with n, paired t-intervals, and what
they let a comparison claim (SPEC §5)."""
import numpy as np
import pytest

from grouprep import metrics
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
  # n = 3 with an interval clear of 0: measured, in either direction.
  up = stats.paired_difference([2.0, 2.1, 2.2], [1.0, 1.0, 1.0])
  down = stats.paired_difference([1.0, 1.0, 1.0], [2.0, 2.1, 2.2])
  assert up["testable"] and up["low"] > 0 and up["measured"]
  assert down["testable"] and down["high"] < 0 and down["measured"]
  assert same["testable"] and not same["measured"]


def test_t_test_p_is_scipys():
  from scipy import stats as sp  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  for n in (2, 3, 4, 7):
    for _ in range(20):
      d = rng.normal(rng.normal(), rng.uniform(0.1, 2), n)
      assert stats.t_test_p(d) == pytest.approx(
          sp.ttest_1samp(d, 0.0).pvalue, rel=1e-9, abs=1e-12)
  assert np.isnan(stats.t_test_p([1.0]))
  assert np.isnan(stats.t_test_p([0.2, 0.2, 0.2]))  # no spread: no test
  same = stats.paired_difference([0.7, 0.6, 0.8], [0.6975, 0.5975, 0.7975])
  assert same["low"] > 0 and np.isnan(same["p"]) and not same["measured"]
  assert stats.t_test_p([0.0, 0.0, 0.0]) == 1.0
  d = stats.paired_difference([1.0, 2.0, 4.0], [0.5, 1.0, 1.5])
  assert d["p"] == pytest.approx(sp.ttest_rel([1.0, 2.0, 4.0],
                                              [0.5, 1.0, 1.5]).pvalue)


def test_welch_difference_is_scipys_at_the_rounded_down_df():
  """Welch's t on (mean, sd, n) against scipy on the same runs: the same
  statistic; p and the interval from scipy's t at the Welch-Satterthwaite
  df rounded down; at least as wide as scipy's exact-df interval."""
  from scipy import stats as sp  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(1)
  for na, nb in ((3, 3), (3, 5), (4, 2), (6, 9)):
    for _ in range(10):
      a = rng.normal(rng.normal(), rng.uniform(0.1, 2), na)
      b = rng.normal(rng.normal(), rng.uniform(0.1, 2), nb)
      d = stats.welch_difference(stats.mean_sd(a), stats.mean_sd(b))
      va, vb = a.var(ddof=1) / na, b.var(ddof=1) / nb
      df = (va + vb) ** 2 / (va ** 2 / (na - 1) + vb ** 2 / (nb - 1))
      k = max(1, int(np.floor(df)))
      se, diff = np.sqrt(va + vb), a.mean() - b.mean()
      assert d["mean"] == pytest.approx(diff)
      assert d["df"] == k
      assert d["p"] == pytest.approx(2 * sp.t.sf(abs(diff) / se, k),
                                     rel=1e-9, abs=1e-12)
      assert d["high"] - diff == pytest.approx(sp.t.ppf(0.975, k) * se,
                                               rel=1e-9)
      exact = sp.ttest_ind(a, b, equal_var=False)
      assert d["p"] >= exact.pvalue - 1e-12
      assert d["measured"] == (min(na, nb) >= 3 and (d["low"] > 0
                                                     or d["high"] < 0))
  one = stats.welch_difference({"mean": 1.0, "sd": float("nan"), "n": 1},
                               {"mean": 0.0, "sd": 0.1, "n": 3})
  flat = stats.welch_difference({"mean": 1.0, "sd": 0.0, "n": 3},
                                {"mean": 0.0, "sd": 0.0, "n": 3})
  for d in (one, flat):
    assert d["mean"] == 1.0 and np.isnan(d["p"]) and not d["measured"]
  nan_mean = stats.welch_difference({"mean": float("nan"), "sd": 0.1, "n": 3},
                                    {"mean": 0.0, "sd": 0.1, "n": 3})
  assert np.isnan(nan_mean["p"]) and not nan_mean["measured"]


def _bh_brute_force(p):
  """q_i = min over every threshold rank k >= rank(i) of m p_(k) / k, by
  trying each k: the definition, without sorting tricks."""
  m = len(p)
  ranks = {i: sorted(range(m), key=lambda j: (p[j], j)).index(i) + 1
           for i in range(m)}
  by_rank = {ranks[i]: p[i] for i in range(m)}
  return [min(1.0, min(m * by_rank[k] / k for k in range(ranks[i], m + 1)))
          for i in range(m)]


@pytest.mark.parametrize("seed", range(5))
def test_bh_qvalues_match_brute_force_and_scipy(seed):
  from scipy import stats as sp  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  m = int(rng.integers(1, 60))
  p = np.where(rng.random(m) < 0.3, rng.random(m) * 0.01, rng.random(m))
  p[rng.integers(0, m, m // 4)] = p[0]  # ties
  q = stats.bh_qvalues(p)
  assert q == pytest.approx(_bh_brute_force(list(p)), rel=1e-12)
  assert q == pytest.approx(sp.false_discovery_control(p), rel=1e-12)
  # Untestable comparisons stay NaN and do not count in m.
  with_nan = np.r_[p, np.nan]
  q2 = stats.bh_qvalues(with_nan)
  assert np.isnan(q2[-1]) and q2[:-1] == pytest.approx(q, rel=1e-12)


@pytest.mark.parametrize("successes,n", [(0, 10), (1, 10), (50, 100),
                                         (3456, 10000), (10, 10), (7, 13)])
def test_wilson_interval_is_scipys(successes, n):
  from scipy import stats as sp  # pylint: disable=g-import-not-at-top
  ci = sp.binomtest(successes, n).proportion_ci(0.95, method="wilson")
  np.testing.assert_allclose(stats.wilson_interval(successes, n),
                             (ci.low, ci.high), atol=1e-6)


def test_wilson_interval_refuses_impossible_counts():
  assert stats.wilson_interval(0, 0) == (0.0, 1.0)
  with pytest.raises(ValueError, match="not in"):
    stats.wilson_interval(11, 10)


def test_the_size_curves_t_interval_uses_scipys_quantile():
  """metrics computes Student's t quantile itself (no scipy at evaluation):
  against scipy's, and the interval against mean ± t sd / √n."""
  from scipy import stats as sp  # pylint: disable=g-import-not-at-top
  for df in (*range(1, 41), 63, 100, 999):
    # 1e-10: scipy before 1.16 computes ppf less precisely (to ~4e-11).
    assert metrics.t_quantile_975(df) == pytest.approx(
        sp.t.ppf(0.975, df), rel=1e-10)
    assert metrics.t_within(1.7, df) == pytest.approx(
        2 * sp.t.cdf(1.7, df) - 1, rel=1e-12)
  v = np.random.default_rng(1).normal(size=7)
  got = metrics.t_interval(v)
  assert got["n"] == 7 and got["mean"] == pytest.approx(v.mean())
  assert got["ci95"] == pytest.approx(
      sp.t.ppf(0.975, 6) * v.std(ddof=1) / np.sqrt(7), rel=1e-12)
  assert np.isnan(metrics.t_interval([1.0])["ci95"])
