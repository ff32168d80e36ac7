"""The measurement tools in tools/ that no page's generated block covers."""
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import paired_records  # noqa: E402  pylint: disable=g-import-not-at-top


def _record(folder, config, seed, recall, fewshot, jax="0.12.0.1"):
  path = folder / config / f"seed{seed}"
  path.mkdir(parents=True)
  held = {"disjoint_characters": {"size_curve": {"5": {"recall_at_1": {
      "mean": recall}}}}, "fewshot": {"20way_1shot": {"mean": fewshot}}}
  (path / "metrics.json").write_text(json.dumps({
      "trained_stack": {"python": "3.12.1", "jax": jax, "cpu": "X"},
      "eval": {"heldout_characters": held}}))


def test_paired_records_pairs_runs_by_config_and_seed(tmp_path):
  """B - A per run and pooled over every pair (mean and p by hand); a seed
  or configuration on one side only is left out; a metric absent on both
  sides (the ratio here) prints nothing."""
  a, b = tmp_path / "a", tmp_path / "b"
  for seed, (ra, rb) in enumerate([(0.2, 0.3), (0.4, 0.4), (0.1, 0.3)]):
    _record(a, "x", seed, ra, 0.5, jax="0.10.1")
    _record(b, "x", seed, rb, 0.5)
  _record(a, "x", 7, 0.9, 0.9, jax="0.10.1")  # no partner
  _record(b, "y", 0, 0.9, 0.9)  # no partner
  result = paired_records.pair(str(a), str(b), ["x", "y"])
  recall = [r for r in result["rows"] if r[2].startswith("held-out dc")]
  assert [(r[0], r[1]) for r in recall] == [("x", 0), ("x", 1), ("x", 2)]
  d = result["pooled"]["held-out dc recall@1, 5 drawings"]
  assert d["n"] == 3 and abs(d["mean"] - 0.1) < 1e-12
  # Differences 0.1, 0, 0.2; p: scipy.stats.ttest_1samp([.1, 0, .2], 0).
  assert abs(d["p"] - 0.22540333075851657) < 1e-6
  assert result["pooled"]["held-out 20-way 1-shot"]["mean"] == 0
  assert "held-out ratio (rotation)" not in result["pooled"]
  assert result["stacks"] == {"a": ["Python 3.12.1, jax 0.10.1, X"],
                              "b": ["Python 3.12.1, jax 0.12.0.1, X"]}
  assert paired_records.stack({"trained_stack": {
      "python": "3.12.1", "jax": "0.12.0.1", "cpu": "X",
      "libraries": {"optax": "0.2.8", "flax": "0.12.12"}}}) == (
          "Python 3.12.1, jax 0.12.0.1, flax 0.12.12, optax 0.2.8, X")
  assert list(result["by_config"]) == ["x"]  # y pairs with nothing
  assert result["by_config"]["x"] == result["pooled"]  # x is every pair
  text = paired_records.render(result, "a", "b")
  assert "x, held-out dc recall@1, 5 drawings: B - A = +0.1000" in text
  assert ("every configuration, held-out dc recall@1, 5 drawings: B - A = "
          "+0.1000") in text
  assert "| x | 2 | held-out dc recall@1, 5 drawings | 0.1000 | 0.3000 | +0.2000 |" in text


def test_paired_records_prints_no_interval_for_one_pair(tmp_path):
  a, b = tmp_path / "a", tmp_path / "b"
  _record(a, "x", 0, 0.2, 0.5)
  _record(b, "x", 0, 0.3, 0.5)
  text = paired_records.render(paired_records.pair(str(a), str(b), ["x"]),
                               "a", "b")
  assert ("x, held-out dc recall@1, 5 drawings: B - A = +0.1000 (no "
          "interval) over 1 paired runs") in text and "nan," not in text


def test_paired_records_says_when_nothing_pairs(tmp_path, capsys):
  a, b = tmp_path / "a", tmp_path / "b"
  _record(a, "x", 0, 0.2, 0.5)
  _record(b, "x", 1, 0.2, 0.5)
  assert paired_records.main([str(a), str(b), "--configs=x"]) == 1
  assert "no configuration and seed finished in both" in capsys.readouterr().err
