"""The note's study (projects/group_note): every (config, seed) once,
resumable, and a rerun of a finished study trains nothing and rewrites the
same tables; its comparisons, findings and convergence verdicts."""
import json
import os
import shutil
import sys

import jax
import numpy as np
import pytest

from conftest import tiny_config
from grouprep import logs
from grouprep import report
from grouprep import stats
from grouprep import sweep
from projects.group_note import comparisons
from projects.group_note import plots
from projects.group_note import study
from projects.group_note import tables

NAMES = ("gi_centroid", "gg_centroid")  # a pair of the note's four
SETTINGS = study.Settings(steps=4, eval_every=2)


@pytest.mark.slow
def test_study_runs_each_seed_once_and_a_rerun_trains_nothing(
    tmp_path, fake_data):
  runs, out = str(tmp_path / "runs"), str(tmp_path / "results")
  make = lambda name: tiny_config(name)
  calls = []

  def runner(config, wd):
    calls.append((config.name, config.seed))
    sweep.train_and_evaluate(config, wd)

  assert study.run(NAMES, [0, 1], runs, SETTINGS, make, runner) == []
  assert sorted(calls) == sorted((n, s) for n in NAMES for s in (0, 1))
  for name in NAMES:
    for seed in (0, 1):
      m = json.load(open(os.path.join(runs, name, f"seed{seed}",
                                      "metrics.json")))
      assert m["step"] == 4 and m["config"] == name
  # Different seeds: different held-out characters, different numbers.
  r = sweep.load_results(runs, NAMES, [0, 1], 4)
  assert r["gi_centroid"][0]["eval"] != r["gi_centroid"][1]["eval"]
  written = study.write_outputs(runs, out, NAMES, [0, 1], SETTINGS)
  assert {"summary.md", "study_per_seed.md", "study_paired.md",
          "study_metrics.json", "convergence_ratio.png",
          "convergence_dc_recall_at_1.png",
          "convergence_20way_1shot.png", "study_configs.png"} <= set(written)
  first = {f: open(os.path.join(out, f)).read() for f in written
           if not f.endswith(".png")}
  summary = first["summary.md"]
  assert "| gi_centroid | 2 | unit |" in summary
  assert "| gg_centroid | 2 | unit |" in summary
  assert "| gi_centroid (untrained) | 2 | unit |" in summary
  assert "Tuning: none;" in summary
  for section in ("## The note's question", "## Findings",
                  "## Convergence (validation split: held-out characters), "
                  "steps 2 → 4"):
    assert section in summary
  paired = first["study_paired.md"]
  assert "| the note's four | gg_centroid | gi_centroid | unseen ratio" \
      in paired and "| 2 |" in paired
  assert "| training | gi_centroid | gi_centroid (untrained) | unseen ratio" \
      in paired
  stack = report.trained_stack(r["gi_centroid"][0])
  assert stack.startswith("Python ")  # this machine's, recorded by each run
  assert json.loads(first["study_settings.json"]) == {
      "steps": 4, "stacks": {stack: 4}, "tuned": {}, "tuning_steps": {}}
  from projects.group_note import docs
  assert docs.load_tuning(out) is None  # untuned: the docs say so
  study.write_outputs(runs, str(tmp_path / "tuned"), NAMES, [0, 1], SETTINGS,
                      {"gi_centroid": {"settings": {"loss.temperature": 0.05},
                                       "steps": 2},
                       "smog": {"settings": {"loss.temperature": 0.05}}})
  assert docs.load_tuning(str(tmp_path / "tuned")) == {
      "gi_centroid": {"settings": {"loss.temperature": 0.05}, "steps": 2}}
  agg = json.loads(first["study_metrics.json"])
  ratio = agg["gi_centroid"]["eval.unseen_alphabets.distance.ratio"]
  vals = [r["gi_centroid"][s]["eval"]["unseen_alphabets"]["distance"]["ratio"]
          for s in (0, 1)]
  assert ratio["n"] == 2 and ratio["mean"] == pytest.approx(np.mean(vals))
  assert ratio["sd"] == pytest.approx(np.std(vals, ddof=1))
  # The convergence curves: the validation split every eval_every steps.
  curves = tables.convergence_curves(runs, NAMES, [0, 1], 4)
  assert sorted(curves["heldout_characters/ratio"]["gi_centroid"]) == [0, 2, 4]
  assert all(sorted(v) == [0, 1] for v in
             curves["heldout_characters/20way_1shot"]["gg_centroid"].values())

  # A rerun of the finished study trains nothing and writes the same tables.
  def booby_trap(config, wd):
    raise AssertionError(f"retrained {config.name} seed {config.seed}")

  assert study.run(NAMES, [0, 1], runs, SETTINGS, make, booby_trap) == []
  study.write_outputs(runs, out, NAMES, [0, 1], SETTINGS)
  assert first == {f: open(os.path.join(out, f)).read() for f in first}
  # Tables of fewer runs (one seed) do not replace those of more.
  with pytest.raises(study.FewerRunsError,
                     match="summarises 4 finished runs and these runs give 2"):
    study.write_outputs(runs, out, NAMES, [0], SETTINGS)
  assert first == {f: open(os.path.join(out, f)).read() for f in first}

  # An unfinished run (its evaluation lost) is the only one run again, and a
  # failing run is named while the others go on.
  os.remove(os.path.join(runs, "gg_centroid", "seed1", "metrics.json"))
  calls.clear()
  assert study.run(NAMES, [0, 1], runs, SETTINGS, make, runner) == []
  assert calls == [("gg_centroid", 1)]

  def broken(name):
    if name == "gg_centroid":
      raise ValueError("no such thing")
    return tiny_config(name)

  failed = study.run(NAMES, [2], runs, SETTINGS, broken, runner)
  assert failed == ["gg_centroid seed 2: ValueError: no such thing"]
  assert sweep.finished(os.path.join(runs, "gi_centroid", "seed2"), 4)


def _result(ratio, recall5, lake):
  """A metrics.json with the headline leaves the study reads."""
  unseen = {"distance": {"ratio": ratio},
            "disjoint_characters": {"size_curve": {
                "5": {"recall_at_1": {"mean": recall5}},
                "all": {"recall_at_1": {"mean": recall5 + 0.3}}}},
            "fewshot": {"20way_1shot": {"mean": 0.4}}}
  return {"eval": {"unseen_alphabets": unseen, "lake_one_shot_error": lake,
                   "heldout_characters": {
                       "distance": {"ratio": ratio},
                       "disjoint_characters": {"size_curve": {
                           "all": {"recall_at_1": {"mean": recall5 + 0.2}}}}}},
          "embedding_space": "unit"}


def test_findings_name_each_row_and_interval_and_nothing_else():
  # gg_centroid's ratio is ~1.0 above gi_centroid's on every seed
  # (measured); its recall differs by noise of both signs (not measured);
  # Lake error is lower for gi_centroid on every seed (measured, gi_centroid
  # better, lower is better).
  results = {
      "gg_centroid": {s: _result(5.0 + s, 0.30 + 0.01 * (-1) ** s,
                                 0.70 + 0.01 * s) for s in range(3)},
      "gi_centroid": {s: _result(4.0 + s + 0.01 * s, 0.30,
                                 0.60 + 0.02 * s) for s in range(3)}}
  rows = tables.paired_rows(results)
  by_metric = {r["metric"]: r for r in rows}
  assert all((r["a"], r["b"]) == ("gg_centroid", "gi_centroid") for r in rows)
  assert by_metric["unseen ratio (rotation)"]["diff"]["measured"]
  assert not by_metric["unseen dc recall@1, 5 drawings"]["diff"]["measured"]
  lake = by_metric["Lake error"]["diff"]
  assert lake["measured"] and lake["mean"] == pytest.approx(0.09)
  text = "\n".join(tables.findings(rows))
  ratio = by_metric["unseen ratio (rotation)"]["diff"]
  assert (f"unseen ratio (rotation) +{ratio['mean']:.3f} [{ratio['low']:.3f}"
          f", {ratio['high']:.3f}], n=3, q={ratio['q']:.3g} (gg_centroid "
          "better)") in text
  assert (f"Lake error +0.090 [{lake['low']:.3f}, {lake['high']:.3f}], n=3, "
          f"q={lake['q']:.3g} (gi_centroid better)") in text
  assert "no difference measured in unseen dc recall@1, 5 drawings" in text
  assert (f"Families: between configurations, {len(rows)} tested "
          "differences:") in text
  question = "\n".join(tables.note_question(results))
  assert "**unseen ratio (rotation)** (higher is better), seeds 0,1,2: best " \
      "mean gg_centroid 6.000 ± 1.000 (n=3); measurably better than " \
      "gi_centroid" in question
  assert "**Lake error** (lower is better), seeds 0,1,2: best mean " \
      "gi_centroid" in question
  assert "**unseen dc recall@1, 5 drawings** (higher is better), seeds " \
      "0,1,2: best mean gg_centroid 0.303 ± 0.012 (n=3); no measurable " \
      "difference from gi_centroid" in question.replace(
          "no difference measured (q ≥ 0.05)", "no measurable difference")
  # Two seeds: an interval that excludes 0 is shown but not claimed (SPEC §5).
  two = {n: {s: r[s] for s in (0, 1)} for n, r in results.items()}
  rows2 = tables.paired_rows(two)
  ratio2 = next(r for r in rows2 if r["metric"] == "unseen ratio (rotation)")
  assert ratio2["diff"]["low"] > 0 and not ratio2["diff"]["measured"]
  text2 = "\n".join(tables.findings(rows2))
  assert "untested (n=2 < 3 seeds): unseen ratio (rotation)" in text2
  assert "better)" not in text2 and "0 tested differences" in text2
  assert "measurably" not in "\n".join(tables.note_question(two))


def test_a_metric_near_its_ceiling_carries_no_claim_in_the_summary():
  """Where gi_centroid's untrained encoder reaches NEAR_CEILING with every
  drawing pooled, summary.md's question makes no claim on that metric and
  its findings list a measured difference apart, labelled; below it, both
  treat it as any other."""
  metric = comparisons.CEILING_METRIC

  def study(untrained_all):
    # gi_medoid: its own untrained floor far lower (medoid groups), and
    # 0.1 below gg_centroid with every drawing.
    results = {}
    for i, name in enumerate(("gg_centroid", "gi_centroid", "gi_medoid")):
      results[name] = {}
      for s in range(3):
        shift = (0.1 + 0.004 * s * s) * (1 if i == 1 else -i / 2)
        r = _result(5.0 + s, 0.30 + shift + 0.01 * s,
                    0.7)  # all drawings: recall5 + 0.3
        low = _result(1.0, 0.2, 0.8)["eval"]
        low["unseen_alphabets"]["disjoint_characters"]["size_curve"][
            "all"]["recall_at_1"]["mean"] = (
                0.3 if name == "gi_medoid" else untrained_all) + 0.01 * s
        results[name][s] = dict(r, untrained=low)
    return results, tables.study_rows(results)

  results, rows = study(0.85)
  row = next(r for r in rows if r["metric"] == metric
             and r["question"] == "the note's four")
  assert row["diff"]["measured"]  # gi_centroid 0.1 ahead on every seed
  assert tables.ceiling_floor(results)["mean"] == pytest.approx(0.86)
  question = "\n".join(tables.note_question(results, rows))
  line = next(l for l in question.splitlines() if f"**{metric}**" in l)
  assert ("near its ceiling for centroid groups (gi_centroid's untrained "
          "encoder already scores 0.860 ± 0.010 (n=3)), so it carries no "
          "claim; best mean gi_centroid") in line
  assert "measurably" not in line
  assert tables.ceiling_configs(results) == {"gg_centroid", "gi_centroid"}
  found = "\n".join(tables.findings(rows, tables.ceiling_configs(results)))
  pair = next(l for l in found.splitlines()
              if l.startswith("- the note's four, gg_centroid − gi_centroid"))
  assert ("near its ceiling for centroid groups (labelled, no headline): "
          f"{metric} -0.10") in pair
  assert f"{metric} -0.1" not in pair.split("near its ceiling")[0]
  # A medoid pair is far from its own ceiling: claimed as any other, and so
  # is what training adds to gi_medoid there.
  medoid = next(l for l in found.splitlines()
                if l.startswith("- the note's four, gg_centroid − gi_medoid"))
  assert "ceiling" not in medoid and f"{metric} +0.1" in medoid
  gain = next(l for l in found.splitlines()
              if l.startswith("- training, gi_medoid − gi_medoid (untrained)"))
  assert "ceiling" not in gain and f"{metric} +" in gain
  gain = next(l for l in found.splitlines()
              if l.startswith("- training, gi_centroid − gi_centroid "
                              "(untrained)"))
  assert f"(labelled, no headline): {metric}" in gain
  # Below NEAR_CEILING the same difference is claimed.
  results, rows = study(0.5)
  assert tables.ceiling_floor(results) is None
  question = "\n".join(tables.note_question(results, rows))
  assert "ceiling" not in question
  assert f"**{metric}** (higher is better), seeds 0,1,2: best mean " \
      "gi_centroid" in question and "measurably better" in question
  assert "ceiling" not in "\n".join(tables.findings(rows))


def test_what_training_adds_is_a_family_of_its_own():
  """The rows of the training questions (trained − untrained, the pooling
  gaps) get their q-values among themselves: adding them, nearly all far
  from 0, leaves every comparison between configurations with the q it
  had without them."""
  rng = np.random.default_rng(1)
  names = comparisons.NOTE_FOUR
  trained = {n: {s: _result(5.0 + rng.normal(0, 1), 0.3 + rng.normal(0, .05),
                            0.7 + rng.normal(0, .05)) for s in range(3)}
             for n in names}
  untrained = {comparisons.untrained_name(n): {
      s: _result(1.0 + 0.01 * s, 0.05 + 0.001 * s, 0.95 - 0.001 * s)
      for s in range(3)} for n in names}
  alone = tables.paired_rows(trained)
  both = tables.paired_rows(dict(trained, **untrained))
  assert {r["family"] for r in both} == {comparisons.CONFIGS_FAMILY,
                                         comparisons.TRAINING_FAMILY}
  between = [r for r in both if r["family"] == comparisons.CONFIGS_FAMILY]
  assert [r["diff"]["q"] for r in between] == [r["diff"]["q"] for r in alone]
  training = [r for r in both if r["family"] == comparisons.TRAINING_FAMILY]
  assert {r["question"] for r in training} == {"training",
                                              "pooling before training"}
  np.testing.assert_allclose([r["diff"]["q"] for r in training],
                             stats.bh_qvalues([r["diff"]["p"]
                                               for r in training]))
  # One family over all rows would have given the configurations' rows
  # other (smaller) q-values: the split changes what is claimed.
  pooled = stats.bh_qvalues([r["diff"]["p"] for r in both])
  assert any(qp < r["diff"]["q"] for qp, r in zip(pooled, both)
             if r["family"] == comparisons.CONFIGS_FAMILY)
  text = "\n".join(tables.findings(both))
  assert (f"Families: between configurations, {len(between)} tested "
          f"differences:") in text
  assert f"; what training adds, {len(training)} tested differences:" in text


def test_the_paired_tables_q_is_bh_of_its_p_and_only_q_below_005_is_claimed():
  """The paired table's family: q = stats.bh_qvalues of the p column over
  the testable rows; a difference whose 95% interval excludes 0 but whose
  q is >= 0.05 is shown, not claimed, in study_paired.md, the findings
  and the note's question."""
  rng = np.random.default_rng(0)
  names = comparisons.NOTE_FOUR
  results = {n: {s: _result(5.0 + rng.normal(0, 1), 0.3 + rng.normal(0, .05),
                            0.7 + rng.normal(0, .05)) for s in range(3)}
             for n in names}
  rows = tables.paired_rows(results)
  p = np.array([r["diff"]["p"] for r in rows])
  q = np.array([r["diff"]["q"] for r in rows])
  assert len(rows) == 6 * 7
  np.testing.assert_allclose(q, stats.bh_qvalues(p))
  assert all(r["diff"]["measured"] == (r["diff"]["q"] < 0.05) for r in rows)
  # The table prints p and q; parsed back, q is BH of the p it prints
  # (to the 3 significant digits it prints).
  from projects.group_note import docs
  text = tables.summary_tables(results, list(names),
                               study.Settings(4, 0))["study_paired.md"]
  parsed = docs.read_paired(text)
  assert len(parsed) == len(rows)
  np.testing.assert_allclose([r["q"] for r in parsed], q, rtol=5e-3)
  np.testing.assert_allclose(
      [r["q"] for r in parsed], stats.bh_qvalues([r["p"] for r in parsed]),
      rtol=1e-2)
  assert [r["measured"] for r in parsed] == [r["diff"]["measured"]
                                            for r in rows]

  # One clear difference (p ~ 1e-5) among many null ones, and one whose
  # interval excludes 0 (p ~ 0.03, one of 42 tests): BH keeps the first and
  # drops the second.
  clear = {"gg_centroid": [5.0, 6.0, 7.0], "gi_centroid": [4.0, 5.01, 5.99]}
  edge = {"gg_medoid": [0.30, 0.40, 0.35], "gi_medoid": [0.2855, 0.3875,
                                                         0.342]}
  results = {}
  for n in names:
    ratios = clear.get(n, [3.0, 3.0 + .5, 3.0 - .4])
    recall = edge.get(n, [0.30, 0.40, 0.35])
    results[n] = {s: _result(ratios[s] + (0.1 * s if n == "gi_medoid" else 0),
                             recall[s], 0.7) for s in range(3)}
  rows = tables.paired_rows(results)
  row = lambda a, b, m: next(r["diff"] for r in rows if (r["a"], r["b"],
                                                        r["metric"]) == (a, b, m))
  ratio = row("gg_centroid", "gi_centroid", "unseen ratio (rotation)")
  assert ratio["measured"] and ratio["q"] < 0.05
  weak = row("gg_medoid", "gi_medoid", "unseen dc recall@1, 5 drawings")
  assert weak["low"] > 0 and weak["p"] < 0.05  # the interval excludes 0
  assert weak["q"] >= 0.05 and not weak["measured"]  # but it is not claimed
  text = "\n".join(tables.findings(rows))
  assert ("gg_medoid − gi_medoid: interval excludes 0 but q ≥ 0.05, not "
          "claimed: unseen dc recall@1, 5 drawings (+") in text
  assert "gi_medoid better" not in text and "gg_medoid better" not in text
  paired = tables.summary_tables(results, list(names),
                                 study.Settings(4, 0))["study_paired.md"]
  line = next(l for l in paired.splitlines() if "| gg_medoid | gi_medoid | "
              "unseen dc recall@1, 5 drawings |" in l)
  assert line.endswith("| no |") and f"| {weak['q']:.3g} |" in line
  question = "\n".join(tables.note_question(results, rows))
  assert "measurably better than gi_medoid" not in question


def test_training_gains_pair_each_seed_with_its_untrained_encoder():
  # Centroid gains +2 ratio on every seed, medoid +1 (+ noise): the gain
  # difference is measured; recall gains are equal (no measurable
  # difference); few-shot and Lake's error are not asked of these questions.
  trained = {"gi_centroid": {s: _result(3.0 + s, 0.5, 0.6) for s in range(3)},
             "gi_medoid": {s: _result(2.0 + s + 0.01 * s, 0.3, 0.6)
                           for s in range(3)}}
  untrained = {comparisons.untrained_name("gi_centroid"):
                   {s: _result(1.0 + s, 0.4, 0.8) for s in range(3)},
               comparisons.untrained_name("gi_medoid"):
                   {s: _result(1.0 + s, 0.2, 0.8) for s in range(3)}}
  for name, by_seed in trained.items():  # each run carries its untrained eval
    for s, r in by_seed.items():
      r["untrained"] = untrained[comparisons.untrained_name(name)][s]["eval"]
  gains = tables.training_gains(trained)
  ratio = "unseen_alphabets.distance.ratio"
  assert [tables._get(gains[comparisons.gain_name("gi_medoid")][s]["eval"], ratio)
          for s in range(3)] == pytest.approx([1.0, 1.01, 1.02])
  rows = tables.paired_rows(dict(trained, **untrained, **gains))
  gain = {r["metric"]: r["diff"] for r in rows
          if r["question"] == "training gain by pooling"}
  assert set(gain) == set(comparisons.GROUP_METRICS)
  assert gain["unseen ratio (rotation)"]["measured"]
  assert gain["unseen ratio (rotation)"]["mean"] == pytest.approx(0.99)
  assert gain["unseen dc recall@1, 5 drawings"]["mean"] == pytest.approx(0)
  before = {r["metric"]: r["diff"] for r in rows
            if r["question"] == "pooling before training"}
  assert set(before) == set(comparisons.GROUP_METRICS)
  assert before["unseen dc recall@1, 5 drawings"]["mean"] == pytest.approx(0.2)
  assert ("(training adds more to gi_centroid)" in
          "\n".join(tables.findings(rows)))


def test_the_note_question_ranks_on_shared_seeds_and_skips_nan():
  # gi_centroid has a fourth seed on which it is far ahead; the ranking uses
  # only the seeds both have. A NaN seed is dropped, not counted.
  results = {
      "gg_centroid": {s: _result(5.0 + s, 0.3, 0.7) for s in range(3)},
      "gi_centroid": {s: _result(4.0 + s, 0.3, 0.7) for s in range(3)}}
  results["gi_centroid"][3] = _result(100.0, 0.3, 0.7)
  question = "\n".join(tables.note_question(results))
  assert "**unseen ratio (rotation)** (higher is better), seeds 0,1,2: best " \
      "mean gg_centroid" in question
  results["gg_centroid"][2] = _result(float("nan"), 0.3, 0.7)
  rows = tables.paired_rows(results)
  ratio = next(r for r in rows if r["metric"] == "unseen ratio (rotation)")
  assert ratio["diff"]["n"] == 2 and not ratio["diff"]["testable"]
  assert "seeds 0,1: best mean gg_centroid" in "\n".join(
      tables.note_question(results))


def test_convergence_verdicts_follow_the_paired_change_seed_by_seed():
  curves = {"heldout_characters/ratio": {
      # +0.5, +0.6, +0.4: rising
      "gi_centroid": {0: {0: 1.0, 1: 1.0, 2: 1.0},
                      1500: {0: 4.0, 1: 4.5, 2: 5.0},
                      2000: {0: 4.5, 1: 5.1, 2: 5.4}},
      # +0.1, -0.1, 0: flat
      "gg_centroid": {1500: {0: 4.0, 1: 4.5, 2: 5.0},
                      2000: {0: 4.1, 1: 4.4, 2: 5.0}},
      # seed 0 stopped before 2000: seeds 1 and 2 are paired, not seed 0's
      # start with seed 1's end
      "gg_medoid": {1500: {0: 1.0, 1: 2.0, 2: 3.0},
                    2000: {1: 2.1, 2: 3.1}}},
      "heldout_characters/20way_1shot": {
          "gi_medoid": {1500: {0: 0.5}, 2000: {0: 0.6}}}}
  changes = {(c["metric"].split("/")[1], c["name"]): c
             for c in tables.convergence_changes(curves, 500, 2000)}
  rising = changes[("ratio", "gi_centroid")]["diff"]
  assert rising["mean"] == pytest.approx(0.5) and rising["measured"]
  assert not changes[("ratio", "gg_centroid")]["diff"]["measured"]
  medoid = changes[("ratio", "gg_medoid")]
  assert medoid["diff"]["n"] == 2
  assert medoid["diff"]["mean"] == pytest.approx(0.1)
  assert medoid["at_start"]["mean"] == pytest.approx(2.5)
  text = "\n".join(tables.convergence_section(
      curves, study.Settings(2000, 250)))
  assert "steps 1500 → 2000" in text
  assert "| gi_centroid | 4.500 ± 0.500 | 5.000 ± 0.458 | +0.500 [" in text
  assert text.count("still rising") == 1
  assert "no change measured" in text and "untested (n < 3)" in text
  assert "2 of 4 curves tested; 1 still change (interval excluding 0): " \
      "note's ratio " \
      "(rotation groups) of gi_centroid (rising)" in text


def test_a_stopped_study_leaves_complete_rows(tmp_path):
  """The note's four seed by seed (their pairs gain n together), then every
  other configuration name by name (each row reaches n seeds in turn)."""
  import ml_collections
  trained = []

  def make_config(name):
    return ml_collections.ConfigDict(
        {"seed": 0, "train": {"num_steps": 1}, "eval": {}})

  names = ["smog", "gi_medoid", "my_config", "item_item", "gg_centroid"]
  failed = study.run(names, [0, 1], str(tmp_path), study.Settings(2, 0),
                     make_config, lambda c, wd: trained.append(wd))
  assert not failed
  rel = [os.path.relpath(wd, tmp_path) for wd in trained]
  assert rel == [os.path.join(*p) for p in (
      ("gg_centroid", "seed0"), ("gi_medoid", "seed0"),
      ("gg_centroid", "seed1"), ("gi_medoid", "seed1"),
      ("item_item", "seed0"), ("item_item", "seed1"),
      ("smog", "seed0"), ("smog", "seed1"),
      ("my_config", "seed0"), ("my_config", "seed1"))]


def test_config_points_pair_each_seed_with_its_untrained_encoder(tmp_path):
  def result(ratio, untrained):
    return {"eval": {"unseen_alphabets": {"distance": {"ratio": ratio}}},
            "untrained": {"unseen_alphabets": {"distance": {
                "ratio": untrained}}}}
  nan = float("nan")
  results = {"gi_centroid": {0: result(5.0, 1.0), 1: result(6.0, 1.2),
                             2: result(nan, 1.4), 3: result(8.0, 1.6)},
             "item_item": {0: result(2.0, nan)},
             "smog": {4: result(3.0, 1.1)}}
  points = tables.config_points(results, "unseen_alphabets.distance.ratio")
  # seed 2 (trained NaN) leaves both its values out; item_item has none.
  assert set(points) == {"gi_centroid", "smog"}
  gi = points["gi_centroid"]
  assert gi["seeds"] == [0, 1, 3] and gi["untrained"] == [1.0, 1.2, 1.6]
  assert gi["mean"] == pytest.approx(19 / 3)
  assert gi["sd"] == pytest.approx(np.std([5.0, 6.0, 8.0], ddof=1))
  assert points["smog"]["sd"] is None  # one seed: no spread to draw
  assert plots.plot_configs(results, ["gi_centroid", "item_item", "absent"],
                            str(tmp_path)) == ["study_configs.png"]
  assert (tmp_path / "study_configs.png").stat().st_size > 0
  assert plots.plot_configs({}, ["gi_centroid"], str(tmp_path / "x")) == []


def test_the_paired_plot_draws_one_family_and_each_row_s_verdict(tmp_path):
  """plots.paired_points reads the study's paired rows: only the family
  asked for and the plotted metrics, every comparison once in the table's
  order, each point the row's mean and interval, its verdict the row's
  (measured = q < 0.05, not measured, untested below 3 seeds); the plot is
  written, and nothing where the family has no row."""
  def result(recall5, lake, untrained=0.1):
    unseen = {"disjoint_characters": {"size_curve": {
        "5": {"recall_at_1": {"mean": recall5}}}}}
    return {"eval": {"unseen_alphabets": unseen, "lake_one_shot_error": lake},
            "untrained": {"unseen_alphabets": {"disjoint_characters": {
                "size_curve": {"5": {"recall_at_1": {"mean": untrained}}}}}}}
  jitter = (0.0, 0.01, -0.012)
  results = {
      # gi_centroid far above gg_centroid on recall: measured; level on
      # Lake's error: not measured; gi_medoid on two seeds: untested.
      "gi_centroid": {s: result(0.5 + jitter[s], 0.7 + jitter[s])
                      for s in range(3)},
      "gg_centroid": {s: result(0.3 + jitter[(s + 1) % 3],
                                0.7 + jitter[(s + 2) % 3]) for s in range(3)},
      "gi_medoid": {s: result(0.2, 0.6) for s in range(2)}}
  rows = tables.study_rows(results)
  pairs, points = plots.paired_points(rows)
  between = [r for r in rows if r["family"] == comparisons.CONFIGS_FAMILY]
  assert pairs == list(dict.fromkeys((r["question"], r["a"], r["b"])
                                     for r in between))
  assert ("the note's four", "gg_centroid", "gi_centroid") in pairs
  assert not any(p[0] in comparisons.TRAINING_QUESTIONS for p in pairs)
  assert list(points) == ["unseen dc recall@1, 5 drawings", "Lake error"]
  verdicts = {}
  for r in between:
    d = r["diff"]
    got = points[r["metric"]][(r["question"], r["a"], r["b"])]
    assert got[:3] == (d["mean"], d["low"], d["high"])
    verdicts[(r["a"], r["b"], r["metric"])] = got[3]
  assert verdicts[("gg_centroid", "gi_centroid",
                   "unseen dc recall@1, 5 drawings")] == "measured"
  assert verdicts[("gg_centroid", "gi_centroid", "Lake error")] == (
      "not measured")
  assert verdicts[("gg_centroid", "gi_medoid", "Lake error")] == "untested"
  training, _ = plots.paired_points(rows, comparisons.TRAINING_FAMILY)
  assert training and all(p[0] in comparisons.TRAINING_QUESTIONS
                          for p in training)
  assert plots.plot_paired(rows, str(tmp_path)) == ["study_paired.png"]
  assert (tmp_path / "study_paired.png").stat().st_size > 0
  assert plots.plot_paired(
      [r for r in rows if r["family"] != comparisons.CONFIGS_FAMILY],
      str(tmp_path / "x")) == []


# --------------------------------------------------------------------------
# The commands before the study: separately scheduled convergence runs and
# an equal tuning budget.
# --------------------------------------------------------------------------
from projects.group_note import convergence  # noqa: E402  pylint: disable=g-import-not-at-top
from projects.group_note import tune  # noqa: E402  pylint: disable=g-import-not-at-top


def _stat(mean, sd, n=3):
  return {"mean": mean, "sd": sd, "n": n}


def test_the_step_rule_picks_the_first_count_within_every_longer_ones_spread():
  labels = [label for label, _ in convergence.VALIDATION]
  # a: +0.05 from 1000 to 2000 (sd 0.01: a gain), +0.005 to 4000 (within
  # sd 0.01): 2000. b: within the spread already at 1000. c: still rising
  # at 4000: 4000, not converged. d: level from 1000 to 2000, far above
  # both at 4000: 4000 (the next count alone would have said 1000).
  rise = {"a": (0.50, 0.55, 0.555), "b": (0.50, 0.505, 0.508),
          "c": (0.40, 0.50, 0.60), "d": (0.50, 0.505, 0.60)}
  table = {label: {n: {s: _stat(v, 0.01) for s, v in zip((1000, 2000, 4000),
                                                          vals)}
                   for n, vals in rise.items()} for label in labels}
  counts = [4000, 1000, 2000]
  assert convergence.choose(table, "a", counts) == {"steps": 2000,
                                                    "converged": True}
  assert convergence.choose(table, "b", counts)["steps"] == 1000
  assert convergence.choose(table, "c", counts) == {"steps": 4000,
                                                    "converged": False}
  assert convergence.choose(table, "d", counts) == {"steps": 4000,
                                                    "converged": False}
  choice = convergence.study_choice(table, ["a", "b"], counts)
  assert choice["chosen_steps"] == 2000  # the largest of the choices
  # One metric still rising is enough to keep training.
  assert convergence.drops(table, ["a", "b"], counts) == []
  table[labels[-1]]["b"][2000] = _stat(0.60, 0.01)
  assert convergence.choose(table, "b", counts)["steps"] == 2000
  # ... and its fall at 4000 (0.092, beyond 4000's sd) is said, since the
  # rule reads gains only; a fall within the sd is not.
  assert convergence.drops(table, ["a", "b"], counts) == [
      f"b's {labels[-1]} 0.500 at 1000, 0.600 at 2000, 0.508 at 4000"]
  assert convergence.study_choice(table, ["a", "b"], counts)["lower"] == (
      convergence.drops(table, ["a", "b"], counts))
  assert convergence.study_choice(table, ["a", "b"], counts)[
      "lower_by_metric"] == {labels[-1]: ["b"]}
  table[labels[-1]]["b"][4000] = _stat(0.595, 0.01)
  assert convergence.drops(table, ["a", "b"], counts) == []
  table[labels[-1]]["b"][4000] = _stat(0.508, 0.01)
  # A count with no finished run: no choice yet.
  del table[labels[0]]["a"][4000]
  assert convergence.choose(table, "a", counts) is None
  assert convergence.study_choice(table, ["a", "b"], counts) is None
  text = convergence.markdown(table, ["a", "b"], counts, [0, 1, 2], None)
  assert "no step count is chosen" in text and convergence.STEP_RULE in text
  assert (f"(the rule reads gains only): b's {labels[-1]} 0.500 at 1000, "
          "0.600 at 2000, 0.508 at 4000.") in text


def test_the_tuning_plot_draws_each_grid_line_and_marks_what_diverged(
    tmp_path, monkeypatch):
  nan, lr, t = float("nan"), "train.learning_rate", "loss.temperature"
  scored = [({lr: 1e-3, t: 0.1}, 0.3), ({lr: 3e-3, t: 0.1}, nan),
            ({lr: 1e-3, t: 0.05}, 0.4), ({lr: 3e-3, t: 0.05}, None)]
  assert plots.tuning_lines(scored) == {
      "temperature 0.1": {"done": [(1e-3, 0.3)], "diverged": [3e-3]},
      "temperature 0.05": {"done": [(1e-3, 0.4)], "diverged": []}}
  assert plots.tuning_lines([({lr: 1e-3}, 0.2), ({lr: 3e-3}, None)]) == {
      "": {"done": [(1e-3, 0.2)], "diverged": []}}
  path = str(tmp_path / "scores.png")
  # Nothing finished: no plot.
  assert plots.plot_tuning({"a": ([({lr: 1e-3}, None)], None)}, "score",
                           path) == [] and not os.path.exists(path)
  assert plots.plot_tuning({"a": (scored, 2), "b": ([({lr: 1e-3}, nan)],
                                                    None)},
                           "score", path) == ["scores.png"]
  assert os.path.getsize(path) > 0
  # The untrained encoder's score: a dashed line at that score, in its own
  # panel only.
  figures = []
  close = plots.plt.close
  def keep(fig):
    figures.append(fig)
    close(fig)
  monkeypatch.setattr(plots.plt, "close", keep)
  assert plots.plot_tuning(
      {"a": (scored, 2), "b": ([({lr: 1e-3}, 0.2)], 0)}, "score",
      str(tmp_path / "floored.png"), {"a": 0.1, "b": None}) == ["floored.png"]
  a, b = figures[-1].axes[:2]
  dashed = lambda ax: [l.get_ydata()[0] for l in ax.get_lines()
                       if l.get_linestyle() == "--"]
  assert dashed(a) == [0.1] and dashed(b) == []


def test_the_tuning_grid_is_the_same_budget_with_the_defaults_first():
  for name in comparisons.CONFIGS:
    config = study.default_config(name)
    points = tune.grid(config)
    assert len(points) == 6, name  # every study configuration: 3 × 2
    field, values = tune.KEY_PARAMETERS[config.loss.name]
    node = config
    for key in field.split("."):
      node = node[key]
    assert node == values[0], name  # the config's default comes first
    assert config.train.learning_rate in tune.LEARNING_RATES
    assert len({tune.tag(p) for p in points}) == 6
    # The budget is one of steps, spent at the study's length: all six
    # points at 2000 (or fewer) steps a run, at 4000 the three learning
    # rates at the key parameter's default.
    assert tune.grid(config, 2000) == tune.grid(config, 1000) == points
    assert tune.grid(config, 4000) == [
        {"train.learning_rate": lr, field: values[0]}
        for lr in tune.LEARNING_RATES]
    for steps in (2000, 4000):
      assert len(tune.grid(config, steps)) * steps == tune.BUDGET_STEPS
    assert len(tune.grid(config, 16000)) == 1  # never less than one run
    # What the budget varies: both at 2000 steps, the rate alone at 4000.
    assert tune.swept(config, 2000) == ["train.learning_rate", field]
    assert tune.swept(config, 4000) == ["train.learning_rate"]
  nan = float("nan")
  s = lambda *v: [({"x": i}, x) for i, x in enumerate(v)]
  assert tune.best(s(0.2, 0.4, 0.4, 0.1)) == 1  # ties: the earlier point
  assert tune.best(s(nan, 0.1)) == 1  # a diverged run ranks last
  assert tune.best(s(0.3, None)) is None  # unfinished: no choice yet
  config = study.default_config("gi_centroid")
  study.apply_settings(config, {"train.learning_rate": 3e-3,
                                "loss.temperature": 0.05})
  assert (config.train.learning_rate, config.loss.temperature) == (3e-3, 0.05)
  with pytest.raises(KeyError, match="loss.temprature"):
    study.apply_settings(config, {"loss.temprature": 0.05})


@pytest.mark.slow
def test_convergence_runs_each_schedule_once_and_writes_its_choice(
    tmp_path, fake_data):
  runs, out = str(tmp_path / "runs"), str(tmp_path / "results")
  calls = []

  def runner(config, wd):
    calls.append((config.name, config.train.num_steps, config.seed))
    sweep.train_and_evaluate(config, wd)

  assert convergence.run(NAMES, [4, 2], [0, 1], runs, tiny_config,
                         runner) == []
  assert sorted(calls) == sorted((n, s, seed) for n in NAMES for s in (2, 4)
                                 for seed in (0, 1))
  assert [c[1] for c in calls] == [2] * 4 + [4] * 4  # shortest first
  m = json.load(open(os.path.join(runs, "steps2", "gi_centroid", "seed1",
                                  "metrics.json")))
  assert m["step"] == 2
  # Validation alone: nothing here reads an unseen alphabet or Lake's runs.
  assert list(m["eval"]) == ["heldout_characters"]
  held_out = m["eval"]["heldout_characters"]
  assert {"distance", "disjoint_characters", "fewshot"} <= set(held_out)
  assert not {"retrieval", "theorem1", "item_to_group_accuracy"} & set(
      held_out)
  assert not any(k.startswith("lake") for k in m)
  written = convergence.write_outputs(runs, out, NAMES, [2, 4], [0, 1])
  assert written == ["convergence_schedules.md",
                     "convergence_schedules.json",
                     "convergence_schedules.png"]
  choice = json.load(open(os.path.join(out, "convergence_schedules.json")))
  assert choice["chosen_steps"] in (2, 4)
  assert study.chosen_steps(os.path.join(out, "convergence_schedules.json")
                            ) == choice["chosen_steps"]
  (stack, runs_on_it), = choice["stacks"].items()  # what trained the 8 runs
  assert stack.startswith(f"Python {sys.version.split()[0]}, jax "
                          f"{jax.__version__}") and runs_on_it == 8
  text = open(os.path.join(out, "convergence_schedules.md")).read()
  assert f"**The study trains {choice['chosen_steps']} steps**" in text
  assert "| held-out dc recall@1, 5 drawings | gi_centroid |" in text
  assert (f"Trained on one stack: Python {sys.version.split()[0]}, jax "
          f"{jax.__version__}") in text and "(8 runs)." in text

  def booby_trap(config, wd):
    raise AssertionError(f"retrained {config.name}")

  assert convergence.run(NAMES, [2, 4], [0, 1], runs, tiny_config,
                         booby_trap) == []


def test_convergence_chooses_from_every_run_and_names_a_count_all_diverged(
    tmp_path):
  """No choice from part of the runs (a summary while they go on); a
  diverged run is done; a count whose every seed diverged is named."""
  runs, out = str(tmp_path / "runs"), str(tmp_path / "results")

  def write(name, steps, seed, value=None):
    wd = sweep.workdir(convergence.runs_dir(runs, steps), name, seed)
    os.makedirs(wd)
    if value is None:
      with open(os.path.join(wd, sweep.DIVERGED), "w") as f:
        json.dump({"steps": steps, "error": "Non-finite"}, f)
      return
    ev = {}
    for _, path in convergence.VALIDATION:
      node = ev
      *parents, leaf = path.split(".")
      for key in parents:
        node = node.setdefault(key, {})
      node[leaf] = value
    with open(os.path.join(wd, "metrics.json"), "w") as f:
      json.dump({"step": steps, "eval": ev}, f)

  names = ["gi_centroid", "gg_centroid"]
  for name in names:
    for seed in (0, 1):
      write(name, 2, seed, 0.5 + seed / 100)
  write("gi_centroid", 4, 0, 0.6)
  convergence.write_outputs(runs, out, names, [2, 4], [0, 1])
  text = open(os.path.join(out, "convergence_schedules.md")).read()
  assert "Not every run has finished yet" in text
  assert not os.path.exists(os.path.join(out, "convergence_schedules.json"))
  write("gi_centroid", 4, 1)  # diverged: done, its seed left out
  write("gg_centroid", 4, 0)
  write("gg_centroid", 4, 1)
  convergence.write_outputs(runs, out, names, [2, 4], [0, 1])
  text = open(os.path.join(out, "convergence_schedules.md")).read()
  assert "no seed of gg_centroid at 4 has finite validation metrics" in text
  assert not os.path.exists(os.path.join(out, "convergence_schedules.json"))


@pytest.mark.slow
def test_tuning_scores_every_grid_point_and_the_study_reads_its_choice(
    tmp_path, fake_data, monkeypatch):
  monkeypatch.setattr(tune, "LEARNING_RATES", (1e-3, 3e-3))  # 2 × 2 a config
  runs, out = str(tmp_path / "runs"), str(tmp_path / "results")
  names = ("gi_centroid", "triplet")
  seen = []

  def runner(config, wd):
    seen.append((config.name, config.train.learning_rate,
                 config.loss.get("temperature"), config.loss.get("margin"),
                 config.train.num_steps))
    sweep.train_and_evaluate(config, wd)

  assert tune.run(names, 0, runs, 3, tiny_config, runner) == []
  assert sorted(seen) == sorted(
      [("gi_centroid", lr, t, None, 3) for lr in (1e-3, 3e-3)
       for t in (0.1, 0.05)] +
      [("triplet", lr, tiny_config("triplet").loss.get("temperature"), m, 3)
       for lr in (1e-3, 3e-3) for m in (0.2, 0.5)])
  # A sweep run reads the validation split with the score's evaluator alone:
  # no unseen alphabet, none of Lake's runs.
  for job, _ in tune.jobs(names, 3, tiny_config):
    name, tag = job.split("/")
    m = json.load(open(os.path.join(sweep.workdir(
        os.path.join(runs, name), tag, 0), "metrics.json")))
    assert list(m["eval"]) == list(m["untrained"]) == ["heldout_characters"]
    assert "disjoint_characters" in m["eval"]["heldout_characters"]
    assert not {"distance", "fewshot"} & set(m["eval"]["heldout_characters"])
    assert not any(k.startswith("lake") for k in m)
  written = tune.write_outputs(runs, out, names, 0, 3, tiny_config)
  assert written == ["tuning/gi_centroid.md", "tuning/triplet.md",
                     "tuning/chosen.json", "tuning/scores.png"]
  chosen = json.load(open(os.path.join(out, "tuning", "chosen.json")))
  for name in names:
    scored = tune.scores(runs, name, 0, 3, tiny_config)
    best = tune.best(scored)
    assert chosen[name]["settings"] == scored[best][0]
    # The runner-up: the second of the finite scores, best first (a tie
    # with the chosen one included).
    assert chosen[name]["runner_up_score"] == sorted(
        (v for _, v in scored if v == v), reverse=True)[1]
    assert chosen[name]["swept"] == ["train.learning_rate", tune.KEY_PARAMETERS[
        tiny_config(name).loss.name][0]]
    # The sweep's cost: each run's own clock and its evaluation, summed.
    wds = [sweep.workdir(os.path.join(runs, name), tune.tag(s), 0)
           for s, _ in scored]
    assert chosen[name]["seconds"] == pytest.approx(sum(
        report.train_seconds(wd) + json.load(open(os.path.join(
            wd, "metrics.json")))["eval_seconds"] for wd in wds))
    assert chosen[name]["seconds"] > 0
    table = open(os.path.join(out, "tuning", f"{name}.md")).read()
    assert table.count("**yes**") == 1 and tune.SCORE[1] in table
    # The floor: the untrained encoder's score, as each run evaluated it.
    floors = {report.get_dotted(json.load(open(os.path.join(
        wd, "metrics.json")))["untrained"], tune.SCORE[1]) for wd in wds}
    assert len(floors) == 1 and chosen[name]["untrained_score"] in floors
    assert (f"Its untrained encoder (seed 0, the same split and evaluator) "
            f"scores {chosen[name]['untrained_score']:.3f}: the floor."
            ) in table
    assert (f"Trained on one stack: Python {sys.version.split()[0]}, jax "
            f"{jax.__version__}") in table and "(4 runs)." in table
  # The study trains each configuration at its chosen settings.
  config = study.run_config("triplet", 1, study.Settings(5, 0), tiny_config,
                            study.chosen_settings(
                                os.path.join(out, "tuning", "chosen.json")))
  assert config.train.learning_rate == chosen["triplet"]["settings"][
      "train.learning_rate"]
  assert config.loss.margin == chosen["triplet"]["settings"]["loss.margin"]
  assert (config.seed, config.train.num_steps) == (1, 5)

  def booby_trap(config, wd):
    raise AssertionError(f"retrained {config.name}")

  assert tune.run(names, 0, runs, 3, tiny_config, booby_trap) == []


@pytest.mark.parametrize("name", ["gi_centroid", "triplet"])
def test_the_main_command_of_a_study_run_gives_that_run_s_config(name):
  """study.main_command's flags, parsed as `python -m grouprep.main` parses
  them, give run_config's config (tuned settings, seed, steps), but for the
  note's four's validation curves, which change nothing a run trains
  (tests/test_train.py::test_evaluation_during_training_leaves_the_training_alone)."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  from ml_collections import config_flags  # pylint: disable=g-import-not-at-top
  settings = study.Settings(steps=4000, eval_every=250)
  chosen = {name: {"settings": {"train.learning_rate": 0.003,
                                "loss.temperature": 0.07}}}
  if name == "triplet":
    chosen[name]["settings"] = {"train.learning_rate": 0.0003,
                                "loss.margin": 0.05}
  command = study.main_command(name, 2, settings, chosen)
  assert command[:5] == ["python", "-m", "grouprep.main",
                         f"--config=configs/{name}.py",
                         f"--workdir=runs/{name}_seed2"]
  argv = [command[2]] + [a for a in command[3:]
                         if not a.startswith("--workdir")]
  parser = flags.FlagValues()  # main's flag, in a registry of its own
  config_flags.DEFINE_config_file("config", flag_values=parser,
                                  sys_argv=argv)
  parser(argv)
  got = parser.config
  want = study.run_config(name, 2, settings, chosen=chosen)
  assert (want.eval.every != got.eval.every) == (name in comparisons.NOTE_FOUR)
  for config in (got, want):
    config.eval.every = 0
    config.eval.during_training = {}
  assert got.to_dict() == want.to_dict()
  assert got.train.learning_rate == chosen[name]["settings"][
      "train.learning_rate"] and got.seed == 2 and got.train.num_steps == 4000
  # A string is quoted for the shell; a value a flag cannot carry is refused.
  odd = study.main_command(name, 0, settings, {name: {"settings": {
      "data.source": "my source"}}})
  assert "'--config.data.source=my source'" in odd
  with pytest.raises(ValueError, match="numbers or strings"):
    study.main_command(name, 0, settings, {name: {"settings": {
        "evals.disjoint_characters.size_curve": (1, 2)}}})


def test_progress_counts_each_stages_finished_runs(tmp_path, capsys):
  from projects.group_note import progress  # pylint: disable=g-import-not-at-top
  runs, out = tmp_path / "runs", tmp_path / "results"

  def finish(wd, steps):
    os.makedirs(wd)
    with open(os.path.join(wd, "metrics.json"), "w") as f:
      json.dump({"step": steps}, f)

  finish(sweep.workdir(convergence.runs_dir(str(runs / "convergence"), 1000),
                       "gi_centroid", 0), 1000)
  finish(sweep.workdir(convergence.runs_dir(str(runs / "convergence"), 2000),
                       "gi_centroid", 1), 1999)  # interrupted: not finished
  job = tune.jobs(["triplet"], 2000)[0][0]
  finish(sweep.workdir(str(runs / "tune" / job.split("/")[0]),
                       job.split("/")[1], tune.TUNING_SEED), 2000)
  finish(sweep.workdir(str(runs / "study"), "gg_centroid", 2), 2000)
  finish(sweep.workdir(str(runs / "study"), "gg_centroid", 7), 2000)  # not a study seed
  # A committed record counts as finished (a fresh checkout restores it).
  records = tmp_path / "records"
  finish(sweep.workdir(convergence.runs_dir(str(records / "convergence"),
                                            4000), "gg_medoid", 2), 4000)
  flags = [f"--runs={runs}", f"--out={out}", f"--records={records}"]
  assert progress.main(flags) == 0
  conv, tuned, studied, proto = capsys.readouterr().out.splitlines()
  assert proto == "protonet     final run not started (8000 steps)"
  assert conv.startswith("convergence  2/36 runs (1000: 1/12, 2000: 0/12, "
                         "4000: 1/12); about ")
  n = len(comparisons.CONFIGS)
  assert tuned.startswith(f"tune         1/{6 * n} runs (2000 steps, seed 100)")
  assert tuned.endswith("waits for convergence's step count")
  assert studied.startswith(f"study        1/{3 * n} runs (2000 steps")
  assert "; the interacting-items 6: 1/18)" in studied  # gg_centroid
  left = lambda line: float(line.split("about ")[1].split(" h")[0])
  assert left(tuned) == pytest.approx(round(tune.cost_hours(
      comparisons.CONFIGS, 2000) * (6 * n - 1) / (6 * n), 1), abs=0.051)
  assert tuned.endswith(f"at the cost model's {tune.SECONDS_PER_STEP:g} s a "
                        "step; waits for convergence's step count")
  # A finished run with a training log sets its stage's pace (its median
  # seconds a step; the pause between steps 50 and 75 left out), and the
  # study's until the study has paced runs of its own.
  tune_wd = sweep.workdir(str(runs / "tune" / job.split("/")[0]),
                          job.split("/")[1], tune.TUNING_SEED)
  os.makedirs(os.path.dirname(logs.path(tune_wd, "train")), exist_ok=True)
  with open(logs.path(tune_wd, "train"), "w") as f:
    for step, wall in {25: 5.0, 50: 10.0, 75: 600.0, 100: 605.0}.items():
      f.write(json.dumps({"step": step, "wall_s": wall}) + "\n")
  progress.main(flags)
  _, tuned, studied, _ = capsys.readouterr().out.splitlines()
  assert "at its runs' pace, 0.200 s a step (median of 1)" in tuned
  assert left(tuned) == pytest.approx(round(
      (6 * n - 1) * (2000 * 0.2 + tune.EVAL_SECONDS) / 3600, 1))
  assert "at the tuning runs' pace, 0.200 s a step (median of 1)" in studied
  assert left(studied) == pytest.approx(round(
      (3 * n - 1) * (2000 * 0.2 + study.EVAL_SECONDS) / 3600, 1))
  # Once convergence has chosen 4000: the sweep and the study run 4000
  # (their 2000-step runs no longer count), the sweep 3 points a config.
  os.makedirs(out)
  with open(out / "convergence_schedules.json", "w") as f:
    json.dump({"chosen_steps": 4000}, f)
  # ProtoNet's reported run part way: 2000 of 8000 steps at 0.9 s a step.
  proto_log = logs.path(str(runs / "protonet_final"), "train")
  os.makedirs(os.path.dirname(proto_log))
  with open(proto_log, "w") as f:
    for step in (1000, 1500, 2000):
      f.write(json.dumps({"step": step, "wall_s": 0.9 * step}) + "\n")
  progress.main(flags)
  conv, tuned, studied, proto = capsys.readouterr().out.splitlines()
  assert proto == ("protonet     final run at step 2000/8000 ("
                   f"{runs / 'protonet_final'}); about 1.5 h left at its own "
                   "pace")
  assert conv.endswith("; chose 4000 steps")
  assert tuned.startswith(f"tune         0/{3 * n} runs (4000 steps")
  assert "waits" not in tuned
  assert studied.startswith(f"study        0/{3 * n} runs (4000 steps")
  # Once reported (committed), a fresh checkout's runs/ need not hold it.
  os.makedirs(out / "protonet")
  from projects.group_note import docs  # pylint: disable=g-import-not-at-top
  (out / (docs.PROTONET_RUN + "_metrics.json")).write_text("{}")
  progress.main(flags)
  assert capsys.readouterr().out.splitlines()[-1] == (
      "protonet     final run reported "
      f"({out / (docs.PROTONET_RUN + '_metrics.json')})")


def test_summary_says_what_was_tuned_and_at_what_length():
  names = ["gi_centroid", "smog"]
  assert tables.tuning_sentence(None, names, 4000).startswith(
      "Tuning: none; every configuration at its configs/NAME.py settings")
  both = {n: {"settings": {}, "steps": 2000} for n in names}
  text = tables.tuning_sentence(both, names, 4000)
  assert text.startswith("Tuning: every configuration at the settings")
  assert "sweeps ran 2000 steps a run against the study's 4000" in text
  assert "against" not in tables.tuning_sentence(both, names, 2000)
  assert "1 of 2 configurations (gi_centroid;" in tables.tuning_sentence(
      {"gi_centroid": both["gi_centroid"]}, names, 2000)
  assert "it varied" not in text  # chosen.json without "swept"
  lr = {n: dict(both[n], swept=["train.learning_rate"]) for n in names}
  assert ("(results/tuning/; it varied the learning rate alone, each "
          "method's key parameter at its configs/NAME.py default)"
          ) in tables.tuning_sentence(lr, names, 2000)
  lr["smog"]["swept"].append("loss.prototype_momentum")
  assert "it varied" not in tables.tuning_sentence(lr, names, 2000)
  # Nothing said where a configuration's fields are unrecorded or none
  # varied anything.
  assert tables.varied_fields([["train.learning_rate"], None]) is None
  assert tables.varied_fields([[], []]) is None
  assert "it varied" not in tables.tuning_sentence(
      {n: dict(both[n], swept=[]) for n in names}, names, 2000)


def test_the_sweep_runs_at_the_studys_length(tmp_path, monkeypatch):
  """tune.main trains at the step count convergence chose (its
  convergence_schedules.json under --out), not at a capped one."""
  out = tmp_path / "results"
  out.mkdir()
  (out / "convergence_schedules.json").write_text(
      json.dumps({"chosen_steps": 4000}))
  seen = []
  monkeypatch.setattr(tune, "run", lambda names, seed, runs, steps, **kw:
                      seen.append(steps) or [])
  monkeypatch.setattr(tune, "write_outputs", lambda *a, **k: [])
  assert tune.main(["--configs=gi_centroid", f"--out={out}",
                    f"--runs={tmp_path / 'runs'}", "--summary-only"]) == 0
  assert seen == [4000]


def test_the_study_refuses_seeds_its_settings_were_chosen_on(tmp_path,
                                                            capsys):
  """A sweep's winning run is the best of six on validation; the study
  must train fresh seeds at its settings, not that run again."""
  assert tune.TUNING_SEED not in (0, 1, 2)
  chosen = {"gi_centroid": {"settings": {"train.learning_rate": 3e-4},
                            "seed": 0},
            "triplet": {"settings": {"loss.margin": 0.5}, "seed": 100}}
  assert study.tuning_seed_overlap(chosen, [0, 1, 2]) == ["gi_centroid"]
  assert study.tuning_seed_overlap(chosen, [1, 2, 100]) == ["triplet"]
  path = tmp_path / "chosen.json"
  path.write_text(json.dumps(chosen))
  with pytest.raises(SystemExit) as e:
    study.main(["--seeds=0,1,2", f"--tuning={path}", "--summary-only",
                f"--out={tmp_path}", f"--runs={tmp_path / 'runs'}"])
  assert e.value.code == 2
  assert "chose the settings of ['gi_centroid']" in capsys.readouterr().err


def test_the_step_count_says_where_it_comes_from(tmp_path):
  """--steps, else the convergence command's choice, else the default, and
  which: a sweep pointed at a folder without the choice says so."""
  path = str(tmp_path / "convergence_schedules.json")
  assert study.step_count(300, path) == (300, "--steps")
  steps, source = study.step_count(None, path)
  assert steps == study.Settings.steps and "the default, as no" in source
  (tmp_path / "convergence_schedules.json").write_text(
      json.dumps({"chosen_steps": 4000}))
  assert study.step_count(None, path) == (
      4000, f"chosen by the convergence command, {path}")


def test_a_choice_at_the_grid_s_edge_is_said():
  """The table says when the chosen value is the largest or smallest the
  grid tried (the optimum may lie beyond), and not for an interior one or
  a field the grid does not vary."""
  scored = [({"train.learning_rate": lr, "loss.temperature": 0.1}, s)
            for lr, s in ((3e-4, 0.30), (1e-3, 0.36), (3e-3, 0.43))]
  text = tune.markdown("gi_centroid", scored, tune.best(scored), 100, 4000)
  assert ("The chosen train.learning_rate (0.003) is the grid's largest: "
          "a better setting may lie outside the grid") in text
  assert "temperature (0.1) is" not in text
  assert tune.at_the_edge(scored, 0) == [
      "train.learning_rate (0.0003) is the grid's smallest"]
  assert tune.at_the_edge(scored, 1) == []
  assert tune.at_the_edge(scored, None) == []
  # Two values tried: any choice is at an end, so nothing is said.
  two = [({"loss.temperature": t}, s) for t, s in ((0.1, 0.3), (0.05, 0.4))]
  assert tune.at_the_edge(two, tune.best(two)) == []


def test_the_tuning_table_shows_the_untrained_floor():
  """The table gives the untrained encoder's score, and says when the
  chosen setting scores at or under it (one seed: no claim); without a
  floor it says neither."""
  scored = [({"train.learning_rate": lr}, s)
            for lr, s in ((3e-4, 0.07), (1e-3, 0.09), (3e-3, 0.13))]
  text = tune.markdown("triplet", scored, tune.best(scored), 100, 4000,
                       floor=0.133)
  assert ("Its untrained encoder (seed 100, the same split and evaluator) "
          "scores 0.133: the floor.") in text
  assert ("The chosen setting scores at or under it at this one seed "
          "(n = 1: no spread, no claim).") in text
  text = tune.markdown("triplet", scored, tune.best(scored), 100, 4000,
                       floor=0.12)
  assert "scores 0.120: the floor." in text and "at or under" not in text
  assert "the floor" not in tune.markdown("triplet", scored, 2, 100, 4000)
  assert tune.untrained_score([({}, None), ({}, {"untrained": {}})]) is None


def test_a_diverged_setting_ranks_last_and_all_diverged_choose_nothing(
    tmp_path, capsys):
  """A grid point whose loss went non-finite (diverged.json) scores NaN and
  ranks last; a configuration whose every point diverged gets no choice,
  its table says so, and the study refuses to train it at its defaults."""
  runs, out = str(tmp_path / "runs"), str(tmp_path / "results")

  def write(name, setting, score=None):
    wd = sweep.workdir(os.path.join(runs, name), tune.tag(setting), 100)
    os.makedirs(wd, exist_ok=True)
    if score is None:
      with open(os.path.join(wd, sweep.DIVERGED), "w") as f:
        json.dump({"steps": 3, "error": "Non-finite training metrics"}, f)
      return
    split, evaluator, *rest = tune.SCORE[1].split(".")
    leaf = score
    for key in reversed(rest):
      leaf = {key: leaf}
    with open(os.path.join(wd, "metrics.json"), "w") as f:
      json.dump({"step": 3, "eval": {split: {evaluator: leaf}}}, f)

  grid = tune.grid(tiny_config("gi_centroid"))
  for i, setting in enumerate(grid):  # the best point diverges
    write("gi_centroid", setting, None if i == 0 else 0.1 * i)
  for setting in tune.grid(tiny_config("triplet")):
    write("triplet", setting)
  scored = tune.scores(runs, "gi_centroid", 100, 3, tiny_config)
  assert np.isnan(scored[0][1]) and tune.best(scored) == len(grid) - 1
  assert tune.best(tune.scores(runs, "triplet", 100, 3, tiny_config)) is None
  tune.write_outputs(runs, out, ["gi_centroid", "triplet"], 100, 3,
                     tiny_config)
  chosen = json.load(open(os.path.join(out, "tuning", "chosen.json")))
  assert list(chosen) == ["gi_centroid"]
  # Sweeping another configuration later keeps gi_centroid's choice.
  tune.write_outputs(runs, out, ["triplet"], 100, 3, tiny_config)
  assert json.load(open(os.path.join(out, "tuning", "chosen.json"))) == chosen
  table = open(os.path.join(out, "tuning", "triplet.md")).read()
  assert "**Every setting diverged: nothing is chosen**" in table
  assert table.count("| NaN |") == len(tune.grid(tiny_config("triplet")))
  with pytest.raises(SystemExit) as e:
    study.main(["--configs=gi_centroid,triplet", f"--out={out}",
                f"--runs={runs}/study"])
  assert e.value.code == 2
  assert "holds no chosen settings for ['triplet']" in capsys.readouterr().err


def test_a_part_of_the_study_reads_its_settings_from_results(tmp_path,
                                                              monkeypatch):
  """--out elsewhere (a part of the study, ahead of the whole) with
  --settings-from=results: the step count convergence chose and the tuned
  settings come from results/, the tables go to --out."""
  settings_dir, out = tmp_path / "results", tmp_path / "results" / "part"
  (settings_dir / "tuning").mkdir(parents=True)
  (settings_dir / "convergence_schedules.json").write_text(
      json.dumps({"chosen_steps": 4000}))
  chosen = {"gi_centroid": {"settings": {"train.learning_rate": 3e-4},
                            "seed": 100}}
  (settings_dir / "tuning" / "chosen.json").write_text(json.dumps(chosen))
  seen = {}

  def write_outputs(runs, out_dir, names, seeds, settings, chosen=None):
    seen.update(out=out_dir, steps=settings.steps, chosen=chosen)
    return []

  monkeypatch.setattr(study, "write_outputs", write_outputs)
  args = ["--configs=gi_centroid", "--summary-only", f"--out={out}",
          f"--runs={tmp_path / 'runs'}", "--records="]
  assert study.main(args + [f"--settings-from={settings_dir}"]) == 0
  assert seen == {"out": str(out), "steps": 4000, "chosen": chosen}
  assert study.main(args) == 0  # without it, --out's own (none there)
  assert seen == {"out": str(out), "steps": study.Settings.steps,
                  "chosen": {}}


def test_raw_pixels_are_evaluated_once_per_seed_and_shown_beside_untrained(
    tmp_path, fake_data, monkeypatch):
  from projects.group_note import docs
  from projects.group_note import pixels
  runs = str(tmp_path / "runs")
  images = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4, 1)
  assert pixels.flatten(images).shape == (2, 16)
  np.testing.assert_array_equal(pixels.flatten(images)[1], images[1].ravel())
  records = str(tmp_path / "records")
  rows = pixels.run([0, 1], runs, records, make_config=tiny_config)
  assert list(rows) == [pixels.PIXELS, pixels.PIXELS_MEDOID]
  got, medoid = rows[pixels.PIXELS], rows[pixels.PIXELS_MEDOID]
  for row, by_seed in rows.items():
    for seed, r in by_seed.items():
      assert r["image_size"] == 16 and r["seed"] == seed
      assert r["config"] == row
      assert r["as"] == comparisons.PIXEL_ROWS[row]
      assert r["pooling"] == ("medoid" if row == pixels.PIXELS_MEDOID
                              else "centroid")
      assert r["embedding_space"] == "unit"
      assert "theorem1" not in str(r["eval"])
      for _, path, _ in comparisons.HEADLINE:
        assert tables._get(r["eval"], path) is not None, path
  # Medoid groups are another floor: the same pixels, other groups.
  path = "unseen_alphabets.disjoint_characters.size_curve.all.recall_at_1.mean"
  assert tables._get(medoid[0]["eval"], path) != tables._get(
      got[0]["eval"], path)
  # Seeds differ in their held-out characters, not in the unseen alphabets.
  ev = lambda s, p: tables._get(got[s]["eval"], p)
  assert ev(0, "unseen_alphabets.distance.ratio") == ev(
      1, "unseen_alphabets.distance.ratio")
  # Kept: a second call evaluates nothing, nor does a fresh checkout's
  # (from the records); without them, a summary has no pixel row to show.
  monkeypatch.setattr(pixels, "evaluate_pixels", lambda c: 1 / 0)
  assert pixels.run([0, 1], runs, make_config=tiny_config) == rows
  shutil.rmtree(runs)
  assert pixels.run([0, 1], runs, make_config=tiny_config,
                    compute=False) == {r: {} for r in rows}
  assert pixels.run([0, 1], runs, records, make_config=tiny_config,
                    compute=False) == rows
  assert pixels.load(runs, [0, 1]) == rows

  def other_evaluation(name):
    config = tiny_config(name)
    config.evals.fewshot.episodes += 1
    return config

  with pytest.raises(ZeroDivisionError):  # evaluated again, not reused
    pixels.run([0], runs, records, make_config=other_evaluation)
  # A row of summary.md and study_metrics.json; the README's table shows
  # it and the costs leave it out.
  results = {"gi_centroid": {s: _result(4.0 + s, 0.3, 0.7) for s in range(2)}}
  for s, r in results["gi_centroid"].items():
    r["step"] = 4
  text = tables.summary_tables(results, ["gi_centroid"], study.Settings(4, 0),
                               baselines=rows)
  assert "| raw pixels | 2 | unit |" in text["summary.md"]
  # The trained runs' stacks, not the untrained baselines'.
  assert "Trained on one stack: not recorded (2 runs)." in text["summary.md"]
  metrics = json.loads(text["study_metrics.json"])
  assert metrics[pixels.PIXELS]["eval.lake_one_shot_error"]["n"] == 2
  assert list(docs.trained_only(metrics)) == ["gi_centroid"]
  assert "| raw pixels, 16 px, centroid groups | 2 |" in docs.study_table(
      dict(metrics, smog=metrics["gi_centroid"]))
  # The medoid groups' floor shows where a medoid configuration does.
  assert "medoid groups | 2 |" not in docs.study_table(
      dict(metrics, smog=metrics["gi_centroid"]))
  assert "| raw pixels, 16 px, medoid groups | 2 |" in docs.study_table(
      dict(metrics, smog=metrics["gi_centroid"],
           gi_medoid=metrics["gi_centroid"]))


def test_a_sweeps_cost_is_its_runs_clocks_and_evaluations(tmp_path):
  """tune.sweep_seconds: each grid point's last logged wall_s (a resumed
  run's clock goes on) plus its eval_seconds, summed; None where a point
  has no timing."""
  runs = str(tmp_path)
  points = tune.grid(tiny_config("gi_centroid"), 4000)
  for i, setting in enumerate(points):
    wd = sweep.workdir(os.path.join(runs, "gi_centroid"), tune.tag(setting),
                       100)
    os.makedirs(wd)
    for step, wall in ((0, 1.0), (2000, 500.0 + i), (4000, 1000.0 + i)):
      logs.append(wd, "train", step, {"wall_s": wall})
    with open(os.path.join(wd, "metrics.json"), "w") as f:
      json.dump({"eval_seconds": 10.0}, f)
  cost = tune.sweep_seconds(runs, "gi_centroid", 100, 4000, tiny_config)
  assert len(points) == 3 and cost == 3 * 1010.0 + 0 + 1 + 2
  os.remove(os.path.join(sweep.workdir(os.path.join(runs, "gi_centroid"),
                                       tune.tag(points[1]), 100),
                         "metrics.json"))
  assert tune.sweep_seconds(runs, "gi_centroid", 100, 4000, tiny_config) is None


def test_a_summary_of_fewer_runs_is_refused_and_changes_nothing(tmp_path,
                                                                capsys):
  """A --summary-only where the runs (and their records) are missing exits
  2 and leaves the tables of the finished study as they were; the
  baselines' rows are not runs."""
  out = tmp_path / "results"
  out.mkdir()
  stat = lambda n: {"mean": 1.0, "n": n, "sd": 0.0}
  metrics = {"gi_centroid": {"step": stat(3), "a": stat(2)},
             "gg_centroid": {"step": stat(1), "a": stat(1)},
             "raw pixels": {"a": stat(3)}}
  (out / "study_metrics.json").write_text(json.dumps(metrics))
  (out / "summary.md").write_text("the finished study")
  assert study.runs_summarised(str(out / "study_metrics.json")) == 4
  assert study.runs_summarised(str(tmp_path / "none.json")) == 0
  assert study.main(["--configs=gi_centroid,gg_centroid", "--summary-only",
                     f"--out={out}", f"--runs={tmp_path / 'runs'}",
                     "--records=", "--tuning="]) == 2
  assert ("summarises 4 finished runs and these runs give 0"
          in capsys.readouterr().err)
  assert sorted(os.listdir(out)) == ["study_metrics.json", "summary.md"]
  assert json.loads((out / "study_metrics.json").read_text()) == metrics


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Each folder of study tables in results/ and the arguments of the command
# that wrote it (besides --seeds=0,1,2).
COMMITTED_STUDIES = {
    "results": [],
    "results/interacting_items": [
        "--configs=gi_centroid,gi_attention,gi_set_transformer,gg_centroid,"
        "gg_attention,gg_set_transformer"],
}


@pytest.mark.parametrize("folder", sorted(COMMITTED_STUDIES))
def test_the_committed_tables_are_rewritten_from_their_records(folder,
                                                               tmp_path):
  """--summary-only on a fresh checkout (no runs/, only results/records/)
  writes every committed table byte for byte (the plots aside: their bytes
  follow matplotlib's version). Tables older than study_settings.json
  (results/ until the tuned study replaces them) had no records: skipped."""
  args = COMMITTED_STUDIES[folder]
  folder = os.path.join(ROOT, folder)
  settings_path = os.path.join(folder, "study_settings.json")
  if not os.path.exists(settings_path):
    pytest.skip(f"{folder} predates study_settings.json (an earlier study, "
                "its runs not recorded)")
  records = os.path.join(ROOT, "results", "records", "study")
  out = tmp_path / "out"
  assert study.main(["--seeds=0,1,2", "--summary-only", f"--out={out}",
                     f"--runs={tmp_path / 'runs'}", f"--records={records}",
                     f"--settings-from={os.path.join(ROOT, 'results')}",
                     *args]) == 0
  have = study.runs_summarised(os.path.join(folder, "study_metrics.json"))
  assert study.runs_summarised(str(out / "study_metrics.json")) == have, (
      f"results/records lacks some of the {have} runs behind {folder}")
  tables_written = [f for f in os.listdir(out) if not f.endswith(".png")]
  assert "summary.md" in tables_written
  for fname in tables_written:
    with open(os.path.join(out, fname)) as a, \
        open(os.path.join(folder, fname)) as b:
      assert a.read() == b.read(), fname


# --------------------------------------------------------------------------
# Before and after: two studies of the same configurations, unpaired.
# --------------------------------------------------------------------------
from projects.group_note import before_after  # noqa: E402  pylint: disable=g-import-not-at-top


def _study_means(steps, values_by_name):
  """study_metrics.json-shaped: {name: {"step", "eval.PATH": mean_sd}} from
  {name: {label: per-seed values}} (labels of before_after.METRICS)."""
  path = {label: p for label, p, _ in before_after.METRICS}
  return {name: dict({"step": stats.mean_sd([steps] * 3)},
                     **{"eval." + path[label]: stats.mean_sd(v)
                        for label, v in values.items()})
          for name, values in values_by_name.items()}


def test_before_after_is_welch_over_unpaired_runs_with_bh_over_the_table(
    tmp_path):
  """Each row is stats.welch_difference(after, before); q is BH over the
  testable rows alone (n >= 3 on both sides); each row says its split; a
  configuration in one study only is left out; the summary lines count the
  changed rows per split, better or worse by the metric's direction."""
  test, lake = "unseen 20-way 1-shot", "Lake error"
  valid = next(l for l, p, _ in before_after.METRICS
               if p == "heldout_characters.fewshot.20way_1shot.mean")
  before = _study_means(2000, {
      "gi_centroid": {test: [0.43, 0.44, 0.44], lake: [0.70, 0.69, 0.69],
                      valid: [0.55, 0.56, 0.55]},
      "gg_centroid": {test: [0.36, 0.37], lake: [0.73, 0.74, 0.73]},
      "triplet": {test: [0.1, 0.2, 0.3]}})
  after = _study_means(4000, {
      "gi_centroid": {test: [0.35, 0.36, 0.36], lake: [0.60, 0.61, 0.60],
                      valid: [0.55, 0.55, 0.56]},
      "gg_centroid": {test: [0.30, 0.31, 0.30], lake: [0.73, 0.74, 0.75]}})
  rows = before_after.rows(before, after)
  assert [(r["config"], r["metric"]) for r in rows] == [
      ("gg_centroid", test), ("gg_centroid", lake), ("gi_centroid", test),
      ("gi_centroid", lake), ("gi_centroid", valid)]
  for r in rows:
    want = stats.welch_difference(r["after"], r["before"])
    assert r["diff"] == want
    assert r["split"] == ("validation" if r["metric"] == valid else "test")
  untestable = rows[0]  # gg_centroid's test column: n = 2 before
  assert not untestable["diff"]["testable"] and np.isnan(untestable["q"])
  testable = [r for r in rows if r["diff"]["testable"]]
  q = stats.bh_qvalues([r["diff"]["p"] for r in testable])
  assert [r["q"] for r in testable] == pytest.approx(list(q))
  assert [r["changed"] for r in rows] == [
      False] + [bool(x < 0.05) for x in q]
  by = {(r["config"], r["metric"]): r for r in rows}
  assert by[("gi_centroid", test)]["changed"]  # -0.08, tight: worse
  assert by[("gi_centroid", lake)]["changed"]  # -0.09 error: better
  text = before_after.render(before, after, None, None, "b", "a")
  assert "- before: 2000 steps; no configuration tuned" in text
  assert "- after: 4000 steps;" in text
  assert ("- test: 2 of 3 tested differences changed, 1 for the better "
          "(Lake's error: gi_centroid), 1 for the worse (20-way 1-shot: "
          "gi_centroid).") in text
  assert ("- validation: 0 of 1 tested differences changed, 0 for the "
          "better, 0 for the worse. The settings were chosen on this split"
          ) in text
  assert text.count("\n| gi_centroid |") == 3


def test_a_metric_s_prose_name_drops_its_split_and_note():
  """comparisons.short, shared by the README's sentences and the
  before/after lines: one name per metric, whichever split."""
  from projects.group_note import comparisons  # pylint: disable=g-import-not-at-top
  assert [comparisons.short(l) for l, _, _ in comparisons.HEADLINE] == [
      "ratio", "recall@1 at 5 drawings", "recall@1 at all drawings",
      "20-way 1-shot", "Lake's error", "ratio", "recall@1 at all drawings"]
  assert comparisons.short(before_after.METRICS[-2][0]) == (
      "recall@1 at 5 drawings")  # the tuning's score, on validation


def test_before_after_names_each_change_by_its_metric_without_its_split():
  """The summary lines group the changed configurations by metric, each
  metric named once without its split (the line names the split)."""
  def row(config, label, mean):
    return {"config": config, "metric": label, "split": "validation",
            "lower_better": False, "q": 0.01, "changed": True,
            "diff": {"mean": mean}}
  score = before_after.METRICS[-2][0]  # the tuning's score, on validation
  assert score.startswith("held-out dc recall@1, 5 drawings (validation;")
  valid_1shot = before_after.METRICS[-1][0]
  text = before_after.changed([
      row("gi_attention", score, +0.1), row("gg_medoid", score, +0.1),
      row("gi_centroid", valid_1shot, -0.1)])["validation"]
  assert text == ("3 of 3 tested differences changed, 2 for the better "
                  "(recall@1 at 5 drawings: gg_medoid, gi_attention), 1 for "
                  "the worse (20-way 1-shot: gi_centroid)")


def test_before_after_puts_the_discriminating_metrics_first():
  """The ratio and the all-drawings recall come after the metrics that
  discriminate; the latter is called near its ceiling where the study's is,
  and a configuration collapsed in both studies is called so."""
  def row(config, label, mean):
    return {"config": config, "metric": label, "split": "test",
            "lower_better": False, "q": 0.01, "changed": True,
            "diff": {"mean": mean}}
  label = {path: l for l, path, _ in before_after.METRICS}
  ratio = label["unseen_alphabets.distance.ratio"]
  five, one_shot, every = (
      label["unseen_alphabets.disjoint_characters.size_curve.5.recall_at_1"
            ".mean"],
      label["unseen_alphabets.fewshot.20way_1shot.mean"],
      label["unseen_alphabets.disjoint_characters.size_curve.all.recall_at_1"
            ".mean"])
  rs = [row("triplet", ratio, +1.0), row("group_loss", every, +0.1),
        row("gi_medoid", every, +0.1), row("triplet", one_shot, +0.1),
        row("gi_medoid", five, +0.1)]
  assert before_after.changed(rs)["test"] == (
      "5 of 5 tested differences changed, 5 for the better (recall@1 at 5 "
      "drawings: gi_medoid; 20-way 1-shot: triplet; ratio: triplet; "
      "recall@1 at all drawings: gi_medoid, group_loss), 0 for the worse")
  # Near ceiling: group_loss's own untrained encoder, not gi_medoid's.
  assert before_after.changed(
      rs, ceiling=["group_loss", "triplet"],
      collapsed={"triplet": "collapsed in both"})["test"] == (
          "5 of 5 tested differences changed, 5 for the better (recall@1 at "
          "5 drawings: gi_medoid; 20-way 1-shot: triplet (collapsed in "
          "both); ratio: triplet (collapsed in both); recall@1 at all "
          "drawings: gi_medoid, group_loss (near ceiling)), 0 for the worse")
  # Validation has no ceiling of its own: nothing is called near it there.
  valid = [dict(r, split="validation") for r in rs]
  assert "near ceiling" not in before_after.changed(
      valid, ceiling=["group_loss"])["validation"]
  shrunk = {"step": {"mean": 4},
            "eval." + comparisons.COLLAPSE_PATH: {"mean": 0.0003},
            "untrained." + comparisons.COLLAPSE_PATH: {"mean": 0.126}}
  spread = dict(shrunk, **{"eval." + comparisons.COLLAPSE_PATH:
                           {"mean": 0.5}})
  assert before_after.collapsed_tags(
      {"triplet": shrunk, "smog": shrunk, "gi_centroid": spread},
      {"triplet": shrunk, "smog": spread, "group_loss": shrunk}) == {
          "group_loss": "collapsed after", "smog": "collapsed before",
          "triplet": "collapsed in both"}
  ceiling = "untrained." + comparisons.PATH[comparisons.CEILING_METRIC]
  assert before_after.near_ceiling({
      "gi_centroid": {"step": {"mean": 4}, ceiling: {"mean": 0.87}},
      "gi_medoid": {"step": {"mean": 4}, ceiling: {"mean": 0.18}},
      "raw pixels": {ceiling: {"mean": 0.9}}}) == ["gi_centroid"]


def test_before_after_is_written_only_beside_another_study(tmp_path):
  study_a = _study_means(2000, {"gi_centroid": {
      "unseen 20-way 1-shot": [0.43, 0.44, 0.44]}})
  study_b = _study_means(4000, {"gi_centroid": {
      "unseen 20-way 1-shot": [0.33, 0.34, 0.34]}})
  results = tmp_path / "results"
  (results / before_after.BEFORE).mkdir(parents=True)
  (results / "study_metrics.json").write_text(json.dumps(study_a))
  assert before_after.output(str(results))[0] is None  # no earlier study yet
  (results / before_after.BEFORE / "study_metrics.json").write_text(
      json.dumps(study_a))
  assert before_after.output(str(results))[0] is None  # the same study
  (results / "study_metrics.json").write_text(json.dumps(study_b))
  (results / "study_settings.json").write_text(json.dumps(
      {"stacks": {"Python 3.12.1, jax 0.12.0.1": 3},
       "tuned": {"gi_centroid": {"train.learning_rate": 0.003}}}))
  text = before_after.output(str(results))[0]
  assert "- after: 4000 steps; each configuration at the settings its " \
         "validation sweep chose; trained on Python 3.12.1, jax 0.12.0.1 " \
         "(3 runs)." in text
  assert "a stack not recorded beside its tables" in text  # no settings
  sentence = before_after.output(str(results))[1]
  assert sentence.startswith("Against the earlier untuned study")
  assert ("on the test metrics 1 of 1 tested differences changed, 0 for the "
          "better, 1 for the worse (20-way 1-shot: gi_centroid); on "
          "validation, the split "
          "that chose the settings (its gains partly by selection), 0 of 0 "
          "tested differences changed, 0 for the better, 0 for the worse."
          ) in sentence
  # Collapse is read from the studies themselves: here the after study's.
  shrunk = dict(study_b["gi_centroid"], **{
      "eval." + comparisons.COLLAPSE_PATH: stats.mean_sd([3e-4] * 3),
      "untrained." + comparisons.COLLAPSE_PATH: stats.mean_sd([0.1] * 3)})
  (results / "study_metrics.json").write_text(json.dumps(
      dict(study_b, gi_centroid=shrunk)))
  table, sentence = before_after.output(str(results))
  for text in (table, sentence):
    assert "(20-way 1-shot: gi_centroid (collapsed after))" in text
  (results / "study_metrics.json").write_text(json.dumps(study_b))
  # A configuration the after study did not tune is named.
  (results / "study_settings.json").write_text(json.dumps({"tuned": {}}))
  assert "no configuration tuned" in before_after.output(str(results))[0]
  two = _study_means(4000, {n: {"unseen 20-way 1-shot": [0.33, 0.34, 0.34]}
                            for n in ("gi_centroid", "gg_centroid")})
  (results / "study_metrics.json").write_text(json.dumps(two))
  (results / "study_settings.json").write_text(json.dumps(
      {"tuned": {"gi_centroid": {"train.learning_rate": 0.003}}}))
  assert ("each configuration at the settings its validation sweep chose, "
          "except gg_centroid (the shared defaults)") in before_after.output(
              str(results))[0]
  (results / "study_metrics.json").write_text(json.dumps(study_a))
  assert before_after.output(str(results)) == (None, "")
