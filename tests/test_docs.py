"""The docs hold no number that the code which measures it did not write."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import accelerator_report  # noqa: E402  pylint: disable=g-import-not-at-top
import main_job  # noqa: E402  pylint: disable=g-import-not-at-top
import performance_report  # noqa: E402  pylint: disable=g-import-not-at-top


def test_accelerator_numbers_are_the_checks_own():
  """docs/accelerators.md's GPU block is what results/accelerator_check/
  summary.json renders to (tools/accelerator_report.py)."""
  assert accelerator_report.main(["--check"]) == 0


def test_the_accelerator_page_names_the_study_its_check_compared_with(
    tmp_path):
  """The GPU check's comparison names the kept study whose means it read,
  with its step count, whichever study results/ holds now."""
  rows = [{"key": "unseen_alphabets.distance.ratio", "study_mean": 5.0}]
  def study(folder, ratio, steps):
    os.makedirs(tmp_path / folder, exist_ok=True)
    (tmp_path / folder / "study_metrics.json").write_text(json.dumps(
        {"gi_centroid": {"step": {"mean": steps},
                         "eval.unseen_alphabets.distance.ratio": {
                             "mean": ratio}}}))
  study("results", 5.0, 2000)
  assert accelerator_report.compared_study(rows, root=str(tmp_path)) == (
      "the CPU study in `results/`, 2000 steps")
  study("results/study_2000_untuned", 5.0, 2000)
  study("results", 4.2, 4000)  # the study in results/ replaced
  assert accelerator_report.compared_study(rows, root=str(tmp_path)) == (
      "the earlier, untuned CPU study (`results/study_2000_untuned/`), 2000 "
      "steps")
  study("results/study_2000_untuned", 4.9, 2000)
  assert "no folder of results/ holds" in accelerator_report.compared_study(
      rows, root=str(tmp_path))


def test_cpu_performance_numbers_are_the_benchmarks_own():
  """docs/performance.md's CPU block is what results/performance/cpu.jsonl
  (the benchmark's --out lines) renders to (tools/performance_report.py)."""
  assert performance_report.main(["--check"]) == 0


def test_the_main_job_s_expectations_are_the_tools_own(tmp_path):
  """The README's main-job block is what results/main_job/cpu.json (the
  record `tools/main_job.py --run` wrote) renders to; the rendering quotes
  the record's step count, times and each number beside its untrained
  value."""
  assert main_job.main(["--check"]) == 0
  record = json.load(open(os.path.join(ROOT, main_job.RECORD)))
  block = main_job.render(record)
  assert f"{record['step']} training steps in" in block
  for label, _, d in main_job.KEY_NUMBERS:
    v = record["numbers"][label]
    assert (f"{label} {v['trained']:.{d}f} (untrained "
            f"{v['untrained']:.{d}f})") in block
  fake = dict(record, step=7, numbers={"20-way 1-shot": {
      "trained": 0.5, "untrained": 0.25}})
  doc = tmp_path / "README.md"
  doc.write_text("x\n<!-- main-job -->\nold\n<!-- /main-job -->\n")
  out = tmp_path / "r.json"
  out.write_text(json.dumps(fake))
  assert main_job.main([f"--out={out}", f"--doc={doc}", "--check"]) == 1
  assert main_job.main([f"--out={out}", f"--doc={doc}"]) == 0
  assert "7 training steps" in doc.read_text() and (
      "20-way 1-shot 0.500 (untrained 0.250)" in doc.read_text())


def test_set_counting_table_is_its_results_own(tmp_path, monkeypatch):
  """projects/set_counting/README.md's table is what results/set_counting/
  metrics.json renders to, as on a fresh checkout (no runs/)."""
  from projects.set_counting import table  # pylint: disable=g-import-not-at-top
  monkeypatch.chdir(ROOT)
  assert table.main(["--check", f"--runs={tmp_path / 'no_runs'}"]) == 0


def _run(path, config, step, ratio):
  import json  # pylint: disable=g-import-not-at-top
  os.makedirs(path, exist_ok=True)
  with open(os.path.join(path, "metrics.json"), "w") as f:
    json.dump({"config": config, "step": step, "eval": {
        "unseen_alphabets": {"distance": {"ratio": ratio}}}}, f)
  return str(path)


def test_compare_with_study_bands_and_refuses_other_runs(tmp_path):
  import compare_with_study  # pylint: disable=g-import-not-at-top
  import pytest  # pylint: disable=g-import-not-at-top
  study = {"gi_centroid": {
      "step": {"mean": 2000.0, "sd": 0.0, "n": 3},
      "eval.unseen_alphabets.distance.ratio": {"mean": 5.0, "sd": 0.3,
                                               "n": 3}}}
  band = 3 * 0.3 / 3 ** 0.5
  near = [_run(tmp_path / f"near{i}", "gi_centroid", 2000, 5.0 + d)
          for i, d in enumerate((-0.1, 0.0, 0.1 + band))]
  (row,) = compare_with_study.compare("gi_centroid", near, study)
  assert row["within"] and row["new_n"] == 3
  assert row["new_mean"] == pytest.approx(5.0 + band / 3)
  far = [_run(tmp_path / f"far{i}", "gi_centroid", 2000, 5.0 + band + 0.01)
         for i in range(3)]
  assert not compare_with_study.compare("gi_centroid", far, study)[0]["within"]
  smoke = [_run(tmp_path / "smoke", "gi_centroid", 30, 5.0)]
  with pytest.raises(compare_with_study.MismatchError, match="step 30"):
    compare_with_study.compare("gi_centroid", smoke, study)


def test_the_accelerator_check_trains_at_the_study_s_settings(tmp_path):
  """The check's study runs take the study's step count and tuned settings
  (study_settings.json), else the step count of an untuned study; the flags
  are overrides of the config they name."""
  import compare_with_study  # pylint: disable=g-import-not-at-top
  from configs import gi_centroid  # pylint: disable=g-import-not-at-top
  metrics = tmp_path / "study_metrics.json"
  metrics.write_text(json.dumps({"gi_centroid": {
      "step": {"mean": 2000.0, "sd": 0.0, "n": 3}}}))
  assert compare_with_study.study_flags("gi_centroid", str(metrics)) == [
      "--config.train.num_steps=2000"]
  (tmp_path / "study_settings.json").write_text(json.dumps(
      {"steps": 4000, "tuned": {"gi_centroid": {
          "train.learning_rate": 0.0003, "loss.temperature": 0.1}}}))
  flags = compare_with_study.study_flags("gi_centroid", str(metrics))
  assert flags == ["--config.train.num_steps=4000",
                   "--config.loss.temperature=0.1",
                   "--config.train.learning_rate=0.0003"]
  config = gi_centroid.get_config()
  for flag in flags:  # each names a field of the config
    key, value = flag[len("--config."):].split("=")
    section, field = key.split(".")
    assert type(config[section][field])(value) == float(value)


# --------------------------------------------------------------------------
# The README, docs/ and the project pages.
# --------------------------------------------------------------------------
import json  # noqa: E402  pylint: disable=g-import-not-at-top
import re  # noqa: E402  pylint: disable=g-import-not-at-top
import pytest  # noqa: E402  pylint: disable=g-import-not-at-top

import doc_blocks  # noqa: E402  pylint: disable=g-import-not-at-top
from projects.group_note import docs as study_docs  # noqa: E402  pylint: disable=g-import-not-at-top

# The runnable blocks and the tests that run them (tests/test_doc_examples.py
# and tests/test_docs_extending.py).
RUNNABLE_BY = {
    "own-data": "test_doc_examples.py::test_the_own_data_and_api_examples_run_as_written",
    "api": "test_doc_examples.py::test_the_own_data_and_api_examples_run_as_written",
    "pooling": "test_docs_extending.py::test_the_pooling_example_trains_and_is_evaluated",
    "method": "test_docs_extending.py::test_the_method_example_trains_and_logs_its_terms",
    "evaluator": "test_docs_extending.py::test_the_evaluator_example_runs_on_both_encoders",
    "data-source": "test_docs_extending.py::test_the_data_source_example_trains_and_skips_what_it_lacks",
}
# Pages whose hand-written figures are not yet generated from results/.


def test_study_numbers_are_the_studys_own():
  """The README's study block, docs/configs.md's costs, the set
  transformers' finding in docs/set_transformer.md and the config
  docstrings' cost paragraphs are what results/ renders to
  (python -m projects.group_note.docs)."""
  assert study_docs.main(["--check"]) == 0


def test_the_readme_is_short_and_every_page_says_what_it_answers():
  with open(os.path.join(ROOT, "README.md")) as f:
    assert len(f.read().splitlines()) <= 200
  for page, text in doc_blocks.pages().items():
    if page == "README.md":
      continue
    first = text.split("\n\n")[1]
    assert first.startswith("This page answers"), page
    assert not re.search(r"\b[Ii]ssues? \d+", text), f"{page} cites an issue"


def test_no_hand_written_figures():
  """A measured figure in the README or docs/ lives in a block a tool
  generates from results/, or in code; never in prose typed by hand. A
  figure: a number with two or more decimals, a count written with
  thousands separators, or a number with a unit of size, work or time
  (MB, MFLOP, ms, s, minutes, h). Versions (Python 3.12) and thresholds
  (>= 0.955, at most 1 GiB) are not figures."""
  decimals = re.compile(
      r"(Python |[≥≤<>] ?)?(?<![\w.])(\d+\.\d{2,})(?!\w|\.\d)")
  thousands = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+)(?!\w|,\d)")
  with_unit = re.compile(
      r"(at most |at least |under |over |[≥≤<>~] ?)?(?<![\w.])"
      r"(\d+(?:\.\d+)?) ?(KB|MB|GB|TB|KiB|MiB|GiB|MFLOP|GFLOP|TFLOP|ms|s|"
      r"min|minutes|h|hours)(?!\w)")
  # Python and JAX versions the toolchain page names, on their own.
  versions = {"3.10", "3.11", "3.12", "3.13", "0.10", "0.11", "0.12"}
  for page, text in doc_blocks.pages().items():
    prose = doc_blocks.prose(text)
    found = ([m.group(2) for m in decimals.finditer(prose)
              if not m.group(1) and m.group(2) not in versions]
             + [m.group(1) for m in thousands.finditer(prose)]
             + [m.group(0) for m in with_unit.finditer(prose)
                if not m.group(1)])
    assert not found, f"{page}: {found}"


def test_every_runnable_block_is_run_by_a_test():
  blocks = doc_blocks.runnable_blocks()
  assert set(blocks) == set(RUNNABLE_BY), (
      f"runnable blocks {sorted(set(blocks) - set(RUNNABLE_BY))} are run by "
      f"no test; {sorted(set(RUNNABLE_BY) - set(blocks))} are gone")
  for test in set(RUNNABLE_BY.values()):
    module, name = test.split("::")
    with open(os.path.join(ROOT, "tests", module)) as f:
      assert f"def {name}(" in f.read(), test


def test_the_study_block_reads_what_the_study_writes():
  """docs.read_paired parses study_paired.md as tables.summary_tables
  writes it; the answer's claims follow the rows."""
  from projects.group_note import tables  # pylint: disable=g-import-not-at-top

  def result(ratio, recall5, lake):
    unseen = {"distance": {"ratio": ratio},
              "disjoint_characters": {"size_curve": {
                  "5": {"recall_at_1": {"mean": recall5}},
                  "all": {"recall_at_1": {"mean": recall5 + 0.3}}}},
              "fewshot": {"20way_1shot": {"mean": 0.4}}}
    return {"eval": {"unseen_alphabets": unseen, "lake_one_shot_error": lake},
            "embedding_space": "unit"}

  results = {
      "gg_centroid": {s: result(5.0 + s, 0.30 + 0.01 * (-1) ** s,
                                0.70 + 0.01 * s) for s in range(3)},
      "gi_centroid": {s: result(4.0 + s + 0.01 * s, 0.30,
                                0.60 + 0.02 * s) for s in range(3)}}
  text = tables.summary_tables(results, list(results),
                               type("S", (), {"steps": 4, "eval_every": 0}))
  rows = study_docs.read_paired(text["study_paired.md"])
  want = tables.paired_rows(results)
  assert len(rows) == len(want) > 0
  for got, r in zip(rows, want):
    assert (got["a"], got["b"], got["metric"]) == (r["a"], r["b"],
                                                   r["metric"])
    assert got["mean"] == round(r["diff"]["mean"], 3)
    assert got["measured"] == r["diff"]["measured"]
  ratio = "unseen ratio (rotation)"
  assert study_docs.beats(rows, "gg_centroid", "gi_centroid", ratio)
  assert not study_docs.beats(rows, "gi_centroid", "gg_centroid", ratio)
  assert study_docs.beats(rows, "gi_centroid", "gg_centroid", "Lake error")
  assert study_docs.beats(rows, "gg_centroid", "smog", ratio) is None
  # The runs a table leaves out are named under it, and only then.
  assert "Not in the table" not in text["summary.md"]
  missing = {"gi_centroid": {3: "diverged by step 1200"},
             "smog": {0: "not finished"}}
  short = tables.summary_tables(
      results, list(results), type("S", (), {"steps": 4, "eval_every": 0}),
      missing=missing)["summary.md"]
  assert ("*Not in the table* (n counts the finished runs): `gi_centroid` "
          "seed 3: diverged by step 1200; `smog` seed 0: not finished."
          ) in short.splitlines()


def test_the_answer_claims_only_q_below_005_and_says_which_rule():
  """On fake runs of the note's four and two related systems: a difference
  whose interval excludes 0 but whose BH q is >= 0.05 is not claimed by
  the README's answer; a paired table without q columns (written before
  them) is read with the old rule and the answer says q-values are not yet
  computed; the answer leads with the discriminating metrics and states
  its scope."""
  from projects.group_note import comparisons  # pylint: disable=g-import-not-at-top
  from projects.group_note import tables  # pylint: disable=g-import-not-at-top

  def result(ratio, recall5, shot, lake):
    unseen = {"distance": {"ratio": ratio},
              "disjoint_characters": {"size_curve": {
                  "5": {"recall_at_1": {"mean": recall5}},
                  "all": {"recall_at_1": {"mean": 0.85}}}},
              "fewshot": {"20way_1shot": {"mean": shot}}}
    return {"eval": {"unseen_alphabets": unseen, "lake_one_shot_error": lake},
            "untrained": {"unseen_alphabets": dict(unseen, fewshot={
                "20way_1shot": {"mean": 0.2}}), "lake_one_shot_error": 0.8},
            "embedding_space": "unit", "step": 4}

  # gi_centroid leads 5-drawing recall over gi_medoid by a difference whose
  # interval excludes 0 (p ~ 0.03) among ~100 tests: q >= 0.05.
  recall = {"gi_centroid": [0.40, 0.50, 0.45],
            "gi_medoid": [0.3855, 0.4875, 0.442]}
  results = {n: {s: result(2.0 + s + i, recall.get(n, [0.2, 0.31, 0.24])[s],
                           0.3 + 0.1 * s, 0.7 - 0.01 * s)
                 for s in range(3)}
             for i, n in enumerate(comparisons.NOTE_FOUR + ("group_loss",
                                                            "smog"))}
  text = tables.summary_tables(results, list(results),
                               type("S", (), {"steps": 4, "eval_every": 0}))
  rows = study_docs.read_paired(text["study_paired.md"])
  assert study_docs.has_qvalues(rows)
  metrics = json.loads(text["study_metrics.json"])
  edge = study_docs._row(rows, "gi_centroid", "gi_medoid",
                         study_docs.RETRIEVAL)[0]
  assert edge["low"] > 0 and edge["q"] >= 0.05 and not edge["measured"]
  assert study_docs.beats(rows, "gi_centroid", "gi_medoid",
                          study_docs.RETRIEVAL) is False
  answer = study_docs.answer(metrics, rows)
  assert answer.startswith("- On the metrics that discriminate")
  assert all(line.startswith("- ") for line in answer.splitlines())
  # A highest mean not measurably above each of the others is named as
  # such, not in bold.
  # The measured differences among the others are said too.
  assert ("on recall@1 at 5 drawings, gi_centroid has the highest mean "
          "(0.450 ± 0.050; measurably better than gg_centroid and gg_medoid; "
          "no difference measured from gi_medoid at n = 3; among the others, "
          "gi_medoid is measurably better than gg_centroid and gg_medoid)"
          ) in answer
  assert "**gi_centroid**" not in answer
  # What training adds: each of the four against its own untrained encoder.
  training = next(l for l in answer.splitlines()
                  if l.startswith("- Training: "))
  assert [n for n in comparisons.NOTE_FOUR
          if f"{n} is measurably better than its own untrained encoder on "
          "Lake's error (" in training] == list(comparisons.NOTE_FOUR)
  # item_item's augmentation is pointed at only where its rows exist.
  assert "gi_centroid_augmented" not in answer
  # Lower is better on Lake's error: its best mean is the lowest, said so.
  lake = answer[answer.index("on Lake's error, "):]
  assert lake.split(" (")[0].endswith("has the lowest mean")
  assert "Benjamini–Hochberg q-value below 0.05" in answer
  assert "not measurably" not in answer
  # The related system is set against the configuration the paired table
  # compares it with, fixed before the runs, whichever of the four leads
  # on a test metric.
  led = {n: {sd: dict(r, eval=dict(r["eval"])) for sd, r in by.items()}
         for n, by in results.items()}
  for sd in range(3):
    led["gg_medoid"][sd]["eval"]["unseen_alphabets"] = dict(
        led["gg_medoid"][sd]["eval"]["unseen_alphabets"],
        disjoint_characters={"size_curve": {
            "5": {"recall_at_1": {"mean": 0.9}},
            "all": {"recall_at_1": {"mean": 0.95}}}})
  led_text = tables.summary_tables(
      led, list(led), type("S", (), {"steps": 4, "eval_every": 0}))
  led_answer = study_docs.answer(
      json.loads(led_text["study_metrics.json"]),
      study_docs.read_paired(led_text["study_paired.md"]))
  assert "**gg_medoid** is measurably best on recall@1 at 5 drawings (" in (
      led_answer)
  assert f"from {comparisons.RELATED_AGAINST} on" in led_answer
  assert "than gg_medoid on" not in led_answer
  assert "from gg_medoid on" not in led_answer
  # The same table before q-values: the interval's rule, said so.
  old = re.sub(r"\| [^|]+ \| [^|]+ \| (yes|no) \|$", r"| \1 |",
               text["study_paired.md"], flags=re.M)
  old_rows = study_docs.read_paired(old)
  assert len(old_rows) == len(rows) and not study_docs.has_qvalues(old_rows)
  assert "q-values: not yet computed for these runs" in study_docs.answer(
      metrics, old_rows)
  assert study_docs.scope(metrics).startswith(
      "Scope: Conv-4 encoders on 28-px Omniglot, 4 steps per run; no method "
      "tuned")
  assert "16 × 2 × 8 batches; smog at its own), so" in study_docs.scope(
      metrics)
  # A configuration that trains on its own batch shape is named.
  assert ("16 × 2 × 8 batches; item_item and smog at their own), so" in
          study_docs.scope({n: metrics["gi_centroid"] for n in
                            ("gi_centroid", "item_item", "smog")}))
  assert "chose, the same budget for every method" in study_docs.scope(
      metrics, {n: {} for n in results})
  # A choice whose sweep length is not recorded claims nothing it varied.
  assert ("1 of 6 configurations at the settings their own validation "
          "sweeps chose") in study_docs.scope(metrics, {"gi_centroid": {}})
  assert "the sweep's length is not recorded for gi_centroid" in (
      study_docs.scope(metrics, {"gi_centroid": {}}))
  # A sweep shorter than the study's runs is said; one as long is not.
  swept = {n: {"steps": 2} for n in results}
  assert "every method, swept at 2 steps a run (" in study_docs.scope(
      metrics, swept)
  assert "swept at" not in study_docs.scope(
      metrics, {n: {"steps": 4} for n in results})


def _fake_result(recall5, shot, lake):
  """A run's metrics.json with the discriminating metrics set (ratio 2.0,
  recall@1 with every drawing 0.85)."""
  unseen = {"distance": {"ratio": 2.0},
            "disjoint_characters": {"size_curve": {
                "5": {"recall_at_1": {"mean": recall5}},
                "all": {"recall_at_1": {"mean": 0.85}}}},
            "fewshot": {"20way_1shot": {"mean": shot}}}
  return {"eval": {"unseen_alphabets": unseen, "lake_one_shot_error": lake},
          "embedding_space": "unit", "step": 4}


def _interacting_study():
  """The question "interacting items"'s configurations, 3 seeds, rendered by
  the study's table writer: gi_set_transformer far better on recall@5 than
  everything, far worse on Lake's error, level on 20-way 1-shot."""
  from projects.group_note import comparisons  # pylint: disable=g-import-not-at-top
  from projects.group_note import tables  # pylint: disable=g-import-not-at-top

  names = sorted({n for q, a, b in comparisons.COMPARISONS
                  if q == "interacting items" for n in (a, b)})
  jitter = (0.0, 0.011, -0.009)
  results = {n: {s: _fake_result(
      (0.6 if n == "gi_set_transformer" else 0.3) + jitter[s] * (i + 1),
      0.4 + jitter[(s + i) % 3],
      (0.9 + 0.01 * s if n == "gi_set_transformer" else 0.6) + jitter[s])
      for s in range(3)} for i, n in enumerate(names)}
  return names, tables.summary_tables(
      results, names, type("S", (), {"steps": 4, "eval_every": 0}))


def test_a_study_part_way_without_a_related_system_still_renders():
  """The README's study block from a study that has run no related system
  yet (the six of "interacting items" alone): no related row, sentence or
  choice; a lead over a single other configuration names it."""
  _, text = _interacting_study()
  rows = study_docs.read_paired(text["study_paired.md"])
  metrics = json.loads(text["study_metrics.json"])
  assert study_docs.related_chosen_on_validation(metrics) is None
  for v in metrics.values():
    for key in ("paced_train_seconds", "train_seconds", "eval_seconds"):
      v[key] = {"mean": 10.0, "sd": 0.0, "n": 3}
  block = study_docs.note_study_block(metrics, rows)
  assert "related system" not in block
  assert ("on recall@1 at 5 drawings, gi_centroid has the highest mean "
          "(0.303 ± 0.050; no difference measured from gg_centroid at "
          "n = 3)") in block
  # A lead over one other configuration names it; over several, counts them.
  row = lambda b: dict(question="q", a="gi_centroid", b=b,
                       metric=study_docs.RETRIEVAL, mean=0.1, low=0.05,
                       high=0.15, n=3, p=0.01, q=0.02, measured=True)
  assert study_docs._against([row("gg_centroid")], "gi_centroid",
                             ["gg_centroid"], study_docs.RETRIEVAL) == (
                                 "measurably better than gg_centroid")
  assert study_docs._against(
      [row("gg_centroid"), row("gg_medoid")], "gi_centroid",
      ["gg_centroid", "gg_medoid"], study_docs.RETRIEVAL) == (
          "measurably better than each of the other two")
  # None of the note's four yet: no lead, no training line, no crash.
  only = {n: v for n, v in metrics.items() if n.startswith("gg_att")}
  assert study_docs.answer(only, rows).startswith("- Each claim")


def test_the_set_transformer_finding_follows_the_paired_rows():
  """docs/set_transformer.md's block: before the study has run the set
  transformers it says so; after, each "interacting items" pair reads
  measured better / worse / no difference / untested as its rows do."""
  names, text = _interacting_study()
  rows = study_docs.read_paired(text["study_paired.md"])
  metrics = json.loads(text["study_metrics.json"])
  block = study_docs.interacting_items_block(metrics, rows)
  line = next(l for l in block.splitlines()
              if l.startswith("- **gi_set_transformer** − gi_centroid"))
  assert "recall@1 at 5 drawings: measurably better, +0.3" in line
  assert "Lake's error: measurably worse, +0.310 [0.285, 0.335]" in line
  # The caveats read the set transformers' configs: the block they trained,
  # the group size they saw, and no validation curve.
  from configs import gi_set_transformer
  config = gi_set_transformer.get_config()
  assert (f"trained {config.loss.set_transformer.block.upper()} blocks only"
          in block)
  assert f"groups of {config.data.items_per_group} drawings" in block
  assert ("recorded no validation curve" in block) == (not config.eval.every)
  # One line counts the bullets' verdicts per metric.
  assert ("In short, over the 4 comparisons a − b below: recall@1 at 5 "
          "drawings: measurably better in 2, no difference measured in 2; "
          "20-way 1-shot: no difference measured in 4; Lake's error: "
          "measurably worse in 2, no difference measured in 2;") in block
  # Beside the centroid floor, the set transformer's own untrained floor.
  assert "| untrained encoder, centroid groups (gi_centroid's seeds) |" in block
  assert ("| untrained encoder, set-transformer groups "
          "(gi_set_transformer's seeds) |") in block
  # The same difference at every seed: no spread, so no test.
  assert ("recall@1 at all drawings: untested: the same difference at every "
          "seed, no spread to test (+0.000 [0.000, 0.000])") not in line
  flat = [dict(r, p=float("nan"), q=float("nan"), low=0.3, high=0.3)
          if r["metric"] == "Lake error" else r for r in rows]
  line = next(l for l in study_docs.interacting_items_block(
      metrics, flat).splitlines()
              if l.startswith("- **gi_set_transformer** − gi_centroid"))
  assert ("Lake's error: untested: the same difference at every seed, no "
          "spread to test (+0.310 [0.300, 0.300])") in line
  assert "20-way 1-shot: no difference measured at n = 3 (" in line
  assert block.startswith("Scope: ") and block.count("\n- **") == 4
  assert "Benjamini–Hochberg q-value below 0.05" in block
  # A row stored the other way round (b − a) reads as a − b.
  flipped = [dict(r, a=r["b"], b=r["a"], mean=-r["mean"], low=-r["high"],
                  high=-r["low"]) for r in rows]
  assert study_docs.interacting_items_block(metrics, flipped) == block
  # Fewer than 3 seeds: untested, whatever the interval; a metric with no
  # paired row: not compared; a table without q-values: its rule is said.
  two = [dict(r, n=2) for r in rows if r["metric"] != "Lake error"]
  line = next(l for l in study_docs.interacting_items_block(
      metrics, two).splitlines() if l.startswith("- **gi_set_transformer**"))
  assert "recall@1 at 5 drawings: untested (n = 2 < 3)" in line
  assert "Lake's error: not compared (no paired seed" in line
  old = [dict(r, p=None, q=None) for r in rows]
  assert "no multiplicity control" in study_docs.interacting_items_block(
      metrics, old)
  partial = {n: v for n, v in metrics.items() if n != "gg_attention"}
  assert study_docs.interacting_items_block(partial, rows).startswith(
      "Not measured yet: the study has no runs of gg_attention")
  # The question's study ahead of the whole one: its own folder, and its
  # own Benjamini-Hochberg family, which the block names.
  block = study_docs.interacting_items_block(metrics, rows, None,
                                             "results/interacting_items")
  assert "(`results/interacting_items/study_paired.md`," in block
  assert ("q-value below 0.05 over the comparisons between configurations "
          "of the paired table of the study of " + study_docs._names(names)
          + " alone") in block


def test_the_set_transformer_finding_reads_the_partial_study_until_the_whole(
    tmp_path):
  """results/interacting_items (the question's six configurations studied
  first) is read while results/ lacks one of them, and no longer once the
  whole study holds them all."""
  _, text = _interacting_study()
  whole, part = tmp_path, tmp_path / study_docs.INTERACTING_PART

  def write(folder, drop=()):
    folder.mkdir(exist_ok=True)
    metrics = {n: v for n, v in json.loads(text["study_metrics.json"]).items()
               if n not in drop}
    (folder / "study_metrics.json").write_text(json.dumps(metrics))
    (folder / "study_paired.md").write_text(text["study_paired.md"])

  write(whole, drop=("gg_set_transformer",))
  assert study_docs.interacting_source(str(whole)) == str(whole)  # no part
  write(part)
  assert study_docs.interacting_source(str(whole)) == str(part)
  write(whole)
  assert study_docs.interacting_source(str(whole)) == str(whole)
  # A seed the whole study lacks (a failed run), or other settings there
  # (an older, untuned study), keep the partial study's.
  metrics = json.loads((whole / "study_metrics.json").read_text())
  metrics["gi_set_transformer"]["step"]["n"] = 2
  (whole / "study_metrics.json").write_text(json.dumps(metrics))
  assert study_docs.interacting_source(str(whole)) == str(part)
  write(whole)
  tuned = {"steps": 4, "tuned": {"gi_centroid": {"loss.temperature": 0.05}}}
  (part / "study_settings.json").write_text(json.dumps(tuned))
  assert study_docs.interacting_source(str(whole)) == str(part)
  (whole / "study_settings.json").write_text(json.dumps(tuned))
  assert study_docs.interacting_source(str(whole)) == str(whole)


def test_every_test_the_docs_cite_exists():
  """A test named in the README or docs/ (`test_...`) is defined in tests/
  (a trailing * matches a prefix)."""
  defined = set()
  for path in doc_blocks.glob.glob(os.path.join(ROOT, "tests", "*.py")):
    with open(path) as f:
      defined |= set(re.findall(r"^def (test_\w+)\(", f.read(), re.M))
  for page, text in doc_blocks.pages().items():
    for name in re.findall(r"`(?:[\w/]+\.py::)?(test_\w+\*?)`", text):
      if name.endswith("*"):
        assert any(d.startswith(name[:-1]) for d in defined), (page, name)
      else:
        assert name in defined, f"{page} cites {name}, which no test defines"


def test_every_path_the_docs_cite_exists():
  """A repository path in a code span of the README or docs/ (grouprep/...,
  docs/..., configs/..., ...; an #anchor left out) exists, or is an output a
  script in tools/ names (written when that script runs)."""
  roots = ("grouprep/", "docs/", "configs/", "tools/", "tests/", "projects/",
           "results/", "examples/")
  tools = ""
  for path in doc_blocks.glob.glob(os.path.join(ROOT, "tools", "*")):
    with open(path) as f:
      tools += f.read()
  for page, text in doc_blocks.pages().items():
    for span in re.findall(r"`([^`\s]+)`", text):
      path = span.split("#")[0].split("::")[0].rstrip(".,;:")
      if not path.startswith(roots) or any(c in path for c in "*{}<>"):
        continue
      assert os.path.exists(os.path.join(ROOT, path)) or (
          path.startswith("results/") and path in tools), f"{page}: {span}"


def test_the_scope_says_what_the_budget_varied_its_cost_and_the_step_count():
  """At 4000 steps a run the budget varies the learning rate alone: the
  scope says so, that the key parameter stayed at its default, what the
  sweeps cost, which chose the grid's largest or smallest rate, and that a
  count no configuration converged by is a budget."""
  from projects.group_note import tune  # pylint: disable=g-import-not-at-top
  _, text = _interacting_study()
  metrics = json.loads(text["study_metrics.json"])
  top = max(tune.LEARNING_RATES)
  tuning = {n: {"settings": {"loss.temperature": 0.1,
                             "train.learning_rate": top if n.startswith("gi")
                             else 1e-3},
                "steps": 4000, "seconds": 3600.0} for n in metrics}
  scope = study_docs.scope(metrics, tuning)
  assert ("each configuration at the learning rate its own validation sweep "
          "chose, the same budget for every method, swept at 4000 steps a "
          "run (3 settings × 1 seed × 4000 steps = 12,000 steps each; "
          f"{len(metrics):.1f} h for the {len(metrics)} sweeps") in scope
  assert "key parameter" in scope and "at its configs/NAME.py default" in scope
  assert (f"each chosen by one validation score ({tune.SCORE[0]}), not by "
          "the few-shot or Lake's columns") in scope
  gi = sorted(n for n in metrics if n.startswith("gi"))
  assert (f"{study_docs._names(gi)} chose the grid's largest rate "
          f"({top:g})") in scope
  assert "smallest rate" not in scope
  low = min(tune.LEARNING_RATES)
  tuning["gg_centroid"]["settings"]["train.learning_rate"] = low
  assert (f"gg_centroid chose the grid's smallest rate ({low:g}), so a "
          "better one may lie below it") in study_docs.scope(metrics, tuning)
  # A sweep with no recorded cost says none; at 2000 steps both fields vary.
  unknown = {n: dict(t, seconds=None, steps=2000) for n, t in tuning.items()}
  assert " h for the" not in study_docs.scope(metrics, unknown)
  assert ("at the learning rate and key parameter its own"
          in study_docs.scope(metrics, unknown))
  assert "default: the budget reaches" not in study_docs.scope(
      metrics, unknown)
  # The step count: where the convergence runs chose it, how.
  still = {"chosen_steps": 4, "per_config": {
      "gi_centroid": {"steps": 4, "converged": False},
      "gg_centroid": {"steps": 2, "converged": True}}}
  assert ("4 steps per run, the longest count the separately scheduled "
          "convergence runs tried (at the shared defaults): gi_centroid "
          "still improved on a validation metric up to it, so the count is "
          "a budget, not convergence (") in study_docs.scope(
              metrics, tuning, still)
  # A curve a longer count lowered is said, by metric and configuration
  # (the rule reads gains only), as convergence.study_choice records them;
  # so is the stack that trained the runs that chose.
  lower = {"held-out ratio": ["gg_centroid"],
           "held-out 20-way 1-shot": ["gi_centroid", "gi_medoid"]}
  assert ("budget, not convergence; validation curves fell at a longer "
          "count by more than that count's seed sd, which the rule (gains "
          "only) does not weigh: held-out ratio (gg_centroid) and held-out "
          "20-way 1-shot (gi_centroid and gi_medoid); those runs trained on "
          "Python 3.11.7, jax 0.10.1, cpu (36 runs) (") in study_docs.scope(
              metrics, tuning, dict(still, lower_by_metric=lower, stacks={
                  "Python 3.11.7, jax 0.10.1, cpu": 36}))
  done = {"chosen_steps": 4, "per_config": {
      "gi_centroid": {"steps": 4, "converged": True}}}
  assert "4 steps per run (the count the separately scheduled" in (
      study_docs.scope(metrics, tuning, done))
  assert "4 steps per run; " in study_docs.scope(
      metrics, tuning, dict(done, chosen_steps=2000))  # not this study's


def test_the_scope_counts_the_choices_won_by_less_than_the_seed_sd():
  """A choice whose margin over the runner-up (one seed a setting) is below
  the study's seed sd of the tuning's score at the chosen setting is
  counted as a draw; a configuration without a runner-up or without
  seeds to give an sd is left out of the count."""
  from projects.group_note import tune  # pylint: disable=g-import-not-at-top
  _, text = _interacting_study()
  metrics = json.loads(text["study_metrics.json"])
  names = sorted(metrics)[:4]
  sd = {names[0]: 0.02, names[1]: 0.02, names[2]: 0.001}
  for name, s in sd.items():
    metrics[name]["eval." + tune.SCORE[1]] = {"mean": 0.3, "sd": s, "n": 3}
  metrics[names[3]]["eval." + tune.SCORE[1]] = {"mean": 0.3, "sd": 0.0,
                                                 "n": 1}
  tuning = {n: {"settings": {"train.learning_rate": 1e-3}, "steps": 4000,
                "score": 0.40, "runner_up_score": 0.39} for n in metrics}
  tuning[names[1]]["runner_up_score"] = 0.35  # won by 0.05 > sd 0.02
  # names[0]: 0.01 < 0.02, a draw; names[2]: 0.01 > 0.001; names[3]: n = 1.
  assert study_docs._narrow_choices(names, tuning, metrics) == (1, 3)
  metrics[names[2]]["eval." + tune.SCORE[1]]["sd"] = float("nan")
  assert study_docs._narrow_choices(names, tuning, metrics) == (1, 2)
  del tuning[names[0]]["runner_up_score"]  # a sweep before the field
  assert study_docs._narrow_choices(names, tuning, metrics) == (0, 1)
  assert ("0 of 1 choices won by less than one seed sd of the score (the "
          "study's, at the chosen setting): each setting had one seed, so "
          "those choices are within seed noise") in study_docs.scope(
              metrics, tuning)
  assert "choices won by" not in study_docs.scope(metrics, {
      n: dict(t, runner_up_score=None) for n, t in tuning.items()})


def test_a_near_ceiling_metric_carries_no_claim_and_each_n_is_its_rows():
  """The all-drawings recall is labelled near its ceiling only where the
  untrained encoder's centroid groups reach NEAR_CEILING, and then the
  answer claims nothing on it; "not measured apart" carries the n of its
  own paired row; an untested comparison is named as untested."""
  from projects.group_note import comparisons  # pylint: disable=g-import-not-at-top
  from projects.group_note import tables  # pylint: disable=g-import-not-at-top

  def result(recall5, untrained_all, s):
    unseen = {"distance": {"ratio": 2.0 + s},
              "disjoint_characters": {"size_curve": {
                  "5": {"recall_at_1": {"mean": recall5}},
                  "all": {"recall_at_1": {"mean": 0.9}}}},
              "fewshot": {"20way_1shot": {"mean": 0.3 + 0.01 * s}}}
    low = dict(unseen, disjoint_characters={"size_curve": {
        "all": {"recall_at_1": {"mean": untrained_all}}}})
    return {"eval": {"unseen_alphabets": unseen,
                     "lake_one_shot_error": 0.7 - 0.01 * s},
            "untrained": {"unseen_alphabets": low,
                          "lake_one_shot_error": 0.8},
            "embedding_space": "unit", "step": 4}

  def study(untrained_all, seeds_of_gg_medoid=3):
    results = {n: {s: result(0.2 + 0.1 * i + 0.01 * s, untrained_all, s)
                   for s in range(3 if n != "gg_medoid"
                                  else seeds_of_gg_medoid)}
               for i, n in enumerate(comparisons.NOTE_FOUR + ("smog",))}
    text = tables.summary_tables(results, list(results),
                                 type("S", (), {"steps": 4, "eval_every": 0}))
    return (json.loads(text["study_metrics.json"]),
            study_docs.read_paired(text["study_paired.md"]))

  metrics, rows = study(0.85)
  assert study_docs.near_ceiling(metrics)
  answer = study_docs.answer(metrics, rows)
  assert "near its ceiling for centroid groups" in answer
  assert "so it carries no claim here" in answer
  assert "(near ceiling for centroid groups)" in study_docs.study_table(metrics)
  metrics, rows = study(0.5)
  assert not study_docs.near_ceiling(metrics)
  assert "ceiling" not in study_docs.answer(metrics, rows)
  assert "ceiling" not in study_docs.study_table(metrics)
  # gg_medoid with 2 seeds: its comparisons are untested, and said so.
  metrics, rows = study(0.85, seeds_of_gg_medoid=2)
  against = study_docs._against(rows, "gi_medoid",
                                ["gg_centroid", "gg_medoid"],
                                study_docs.RATIO)
  assert "untested against gg_medoid (n = 2 < 3)" in against
  assert study_docs._against(rows, "gi_medoid", ["triplet"],
                             study_docs.RATIO) == (
                                 "untested against triplet (no paired row)")
  three = study_docs._row(rows, "gi_medoid", "gg_centroid",
                          study_docs.RATIO)[0]
  if not three["measured"]:
    assert f"from gg_centroid at n = {three['n']}" in against
  # Rows of different n: each level verdict says its own.
  mixed = [dict(r, n=4) if {r["a"], r["b"]} == {"gi_medoid", "gg_centroid"}
           else r for r in rows]
  mixed = [dict(r, measured=False) for r in mixed]
  level = study_docs._against(mixed, "gi_medoid",
                              ["gg_centroid", "gi_centroid"],
                              study_docs.RATIO)
  assert level == ("no difference measured from gi_centroid at n = 3; no "
                   "difference measured from gg_centroid at n = 4")


def test_the_set_transformer_finding_shows_floors_caveats_and_all_drawings():
  names, text = _interacting_study()
  rows = study_docs.read_paired(text["study_paired.md"])
  metrics = json.loads(text["study_metrics.json"])
  block = study_docs.interacting_items_block(metrics, rows)
  table = study_docs.means_table(metrics, names, {}, timed=False)
  assert table in block and all(f"| `{n}` | 3 |" in table for n in names)
  assert "recall@1 at all drawings" in block.splitlines()[-3]
  assert "compare the item encoders the losses trained, not the pooling" in (
      block)
  assert "The step count came from" not in block  # no convergence given
  # No configuration here pools medoids: no medoid floor, even where the
  # study it reads has one.
  with_medoid = dict(metrics, gi_medoid=metrics["gi_centroid"])
  assert "medoid groups" in study_docs.means_table(with_medoid, names, {})
  assert "medoid" not in study_docs.interacting_items_block(with_medoid, rows)
  chose = {"chosen_steps": 4, "per_config": {
      n: {"steps": 4, "converged": False} for n in ("gg_centroid",
                                                    "gi_centroid")}}
  block = study_docs.interacting_items_block(metrics, rows, None, "results",
                                             chose)
  assert ("The step count came from convergence runs of gg_centroid and "
          "gi_centroid at the shared defaults, not of the set transformers."
          ) in block
  assert "The step count came from" not in study_docs.interacting_items_block(
      metrics, rows, None, "results", dict(chose, chosen_steps=2000))


def test_docs_removes_a_generated_file_results_no_longer_supports(
    tmp_path, monkeypatch):
  """An output that results/ no longer supports (None: the before/after
  table once results/ holds the earlier study again) is stale under
  --check and removed by a plain run; absent, it is not stale."""
  stale = tmp_path / "study_before_after.md"
  stale.write_text("old\n")
  monkeypatch.setattr(study_docs, "outputs", lambda: {str(stale): None})
  assert study_docs.main(["--check"]) == 1 and stale.exists()
  assert study_docs.main([]) == 0 and not stale.exists()
  assert study_docs.main(["--check"]) == 0


def test_a_config_s_cost_paragraph_follows_the_study_s_runs():
  """rewrite_docstring adds the study's cost paragraph to a docstring
  without one, rewrites it in place after, and refuses one the study has
  takes it out again when the study has no run of it; config_cost names
  what the sweep chose and what it held."""
  source = '"""A config.\n\nCost: as another\'s.\n"""\nimport os\n'
  paragraph = ("Cost (the note's study, `python -m projects.group_note."
               "study`): 4000 steps trained in 900 s (paced).")
  added = study_docs.rewrite_docstring(source, paragraph, "c.py")
  assert added == ('"""A config.\n\nCost: as another\'s.\n\n' +
                   study_docs._wrap(paragraph) + '\n"""\nimport os\n')
  again = study_docs.rewrite_docstring(added, paragraph.replace("900", "901"),
                                       "c.py")
  assert "901 s" in again and "900 s" not in again
  assert again.count("Cost (the note's study") == 1
  assert study_docs.rewrite_docstring(source, None, "c.py") == source
  assert study_docs.rewrite_docstring(added, None, "c.py") == source
  assert study_docs.rewrite_docstring(again, None, "c.py") == source
  with pytest.raises(SystemExit, match="no module docstring"):
    study_docs.rewrite_docstring("import os\n", paragraph, "c.py")
  _, text = _interacting_study()
  metrics = json.loads(text["study_metrics.json"])
  for v in metrics.values():
    for key in ("paced_train_seconds", "train_seconds", "eval_seconds"):
      v[key] = {"mean": 10.0, "sd": 0.0, "n": 3}
  tuning = {"gi_centroid": {"settings": {"loss.temperature": 0.1,
                                         "train.learning_rate": 0.003},
                            "steps": 4000}}
  cost = study_docs.config_cost("gi_centroid", metrics, tuning)
  assert ("Chosen on validation (projects.group_note.tune): "
          "train.learning_rate = 0.003 (loss.temperature = 0.1: the sweep did "
          "not vary it); the sweep: results/tuning/gi_centroid.md.") in cost
  # The command of one of its runs: the study's seed 0, steps and settings
  # (tests/test_group_note.py checks main parses it to the run's config).
  assert ("\nOne of its runs as the study trained it (its seed 0):\n"
          "  python -m grouprep.main --config=configs/gi_centroid.py") in cost
  flat = " ".join(cost.replace("\\\n", " ").split())
  assert ("--config.loss.temperature=0.1 --config.train.learning_rate=0.003 "
          "--config.seed=0 --config.train.num_steps=") in flat
  once = study_docs.rewrite_docstring(source, cost, "c.py")
  assert study_docs.rewrite_docstring(once, cost, "c.py") == once
  assert max(len(l) for l in once.splitlines()) <= 79
  assert once.count("  python -m grouprep.main") == 1
  # What the sweep recorded it varied wins over today's grid.
  recorded = study_docs.config_cost("gi_centroid", metrics, {"gi_centroid": dict(
      tuning["gi_centroid"], swept=["loss.temperature",
                                    "train.learning_rate"])})
  assert "tune): loss.temperature = 0.1, train.learning_rate = 0.003;" in (
      recorded)
  both = study_docs.config_cost("gi_centroid", metrics, {"gi_centroid": dict(
      tuning["gi_centroid"], steps=2000)})
  assert ("tune): loss.temperature = 0.1, train.learning_rate = 0.003; the "
          "sweep") in both


def test_the_toolchain_page_names_the_stacks_the_study_counted(tmp_path):
  """docs/toolchain.md's study-stack sentence, and the README's short one
  beside the study's scope: study_settings.json's stacks as the study
  counted them; for tables written before it counted them, the stack the
  lab notes record."""
  import json  # pylint: disable=g-import-not-at-top
  assert study_docs.study_stack_block(str(tmp_path)) == (
      study_docs.UNRECORDED_STACK + "\n")
  assert "0.10.2" in study_docs.readme_stack(str(tmp_path))
  (tmp_path / "study_settings.json").write_text(json.dumps(
      {"steps": 4, "stacks": {"Python 3.12.1, jax 0.12.0.1, cpu": 57}}))
  assert study_docs.study_stack_block(str(tmp_path)) == (
      "The study in `results/` was trained on one stack: Python 3.12.1, "
      "jax 0.12.0.1, cpu (57 runs).\n")
  assert study_docs.readme_stack(str(tmp_path)) == (
      "Trained (details: `docs/toolchain.md`) on one stack: Python 3.12.1, "
      "jax 0.12.0.1, cpu (57 runs).")
  metrics, rows = study_docs.load(study_docs.RESULTS)
  block = study_docs.note_study_block(
      metrics, rows, stack=study_docs.readme_stack(str(tmp_path)))
  scope = next(l for l in block.splitlines() if l.startswith("Scope:"))
  assert scope.endswith(" Trained (details: `docs/toolchain.md`) on one "
                        "stack: Python 3.12.1, jax 0.12.0.1, cpu (57 runs).")
  (tmp_path / "study_settings.json").write_text(json.dumps(
      {"steps": 4, "stacks": {"A": 2, "B": 5}}))
  assert study_docs.study_stack_block(str(tmp_path)) == (
      "The study in `results/` was trained on 2 stacks, which round "
      "differently: B (5 runs); A (2 runs).\n")


def test_the_blocks_cite_the_paired_plot_only_where_the_study_drew_it(
    tmp_path):
  """The README's and docs/set_transformer.md's blocks name a folder's
  study_paired.png exactly when that folder holds one (the study writes it
  beside study_paired.md; a study run before the plot existed has none)."""
  metrics, rows = study_docs.load(study_docs.RESULTS)
  assert "study_paired.png" not in study_docs.note_study_block(metrics, rows)
  assert "drawn in `results/study_paired.png`" in study_docs.note_study_block(
      metrics, rows, plot=True)
  assert not study_docs._drawn(str(tmp_path))
  (tmp_path / "study_paired.png").write_bytes(b"png")
  assert study_docs._drawn(str(tmp_path))
  outputs = study_docs.outputs()
  readme = outputs[os.path.join(ROOT, "README.md")]
  assert ("results/study_paired.png" in readme) == study_docs._drawn(
      study_docs.RESULTS)
  source = study_docs.interacting_source()
  cited = os.path.relpath(os.path.join(source, "study_paired.png"), ROOT)
  page = outputs[os.path.join(ROOT, "docs", "set_transformer.md")]
  assert (f"drawn in `{cited}`" in page) == study_docs._drawn(source)


def test_the_item_level_baseline_has_its_row_and_its_verdicts():
  """Where the study has the note's item-level baseline (item_item), the
  README table shows its row and the answer sets the centroid
  configurations against it, from their paired rows; the related system's
  row is named as chosen on validation, not as the strongest."""
  from projects.group_note import comparisons  # pylint: disable=g-import-not-at-top
  from projects.group_note import tables  # pylint: disable=g-import-not-at-top

  jitter = (0.0, 0.011, -0.009)
  names = comparisons.NOTE_FOUR + ("groupface", comparisons.ITEM_BASELINE)
  # item_item far ahead on 20-way 1-shot, level elsewhere.
  results = {n: {s: _fake_result(
      0.3 + jitter[(s + i) % 3],
      (0.7 if n == comparisons.ITEM_BASELINE else 0.4)
      + jitter[(s + i) % 3] / 2, 0.6 + jitter[(s + 2 * i) % 3])
      for s in range(3)} for i, n in enumerate(names)}
  text = tables.summary_tables(results, list(results),
                               type("S", (), {"steps": 4, "eval_every": 0}))
  metrics = json.loads(text["study_metrics.json"])
  rows = study_docs.read_paired(text["study_paired.md"])
  table = study_docs.study_table(metrics)
  assert "| `item_item` (the note's item-level baseline) | 3 |" in table
  assert "`groupface` (the related system chosen on validation)" in table
  answer = study_docs.answer(metrics, rows)
  item = next(l for l in answer.splitlines()
              if l.startswith("- Against the note's item-level baseline"))
  for n in comparisons.ITEM_LEVEL_AGAINST:
    assert f"{n} is measurably worse than item_item on 20-way 1-shot" in item
  assert "not measured apart from item_item on recall@1 at 5 drawings" in item
  # The note's ratio after the metrics that discriminate, for each
  # configuration.
  clauses = item.split("the objective and the labels): ", 1)[1].split(". ")
  assert [c.split(" is ")[0] for c in clauses] == list(
      comparisons.ITEM_LEVEL_AGAINST)
  for clause in clauses:
    assert clause.index("Lake's error") < clause.index(
        "; by the note's own metric, it is ") < clause.index(" on ratio")
  # gi_centroid_augmented's rows are pointed at once the study has them.
  assert ("no groups and no labels in training, trained on random affine "
          "views; the note's four train on unaugmented images with alphabet "
          "labels; gi_centroid_augmented, gi_centroid on such views, has no "
          "finished run yet, so the augmentation is not told apart from the "
          "objective and the labels): ") in item
  augmented = dict(metrics, gi_centroid_augmented=metrics["gi_centroid"])
  assert ("alphabet labels; gi_centroid_augmented is gi_centroid on such "
          "views, which tells the augmentation apart (the objective and the "
          "labels still differ): its rows in `results/study_paired.md`): ") in (
              study_docs.answer(augmented, rows))
  # Both compare groups pooled from unit items with groups normalised after
  # pooling raw items (configs/NAME.py's losses): said, and nowhere else.
  assert item.endswith("(item_item's groups are pooled from unit-norm items, "
                       "gg_centroid and gi_centroid's groups are normalised "
                       "after pooling raw items: on recall@1 at 5 drawings "
                       "and the ratio this compares the encoders and the "
                       "ways of forming a group; 20-way 1-shot and Lake's "
                       "error build prototypes alike for every method, "
                       "`docs/evaluation.md`).")
  assert "(groupface's groups are pooled from unit-norm items" in answer
  assert study_docs._group_definitions("gi_centroid", "gg_medoid") == ""
  # A raw-space configuration pools raw items and normalises nothing.
  assert ("protonet's groups are pooled from raw items"
          in study_docs._group_definitions("gi_centroid", "protonet"))
  assert study_docs._group_definitions("made_up", "gi_centroid") == ""
  without = {n: v for n, v in metrics.items()
             if not n.startswith(comparisons.ITEM_BASELINE)}
  assert "item_item" not in study_docs.study_table(without)
  assert "item-level baseline" not in study_docs.answer(without, rows)


def test_the_study_command_trains_the_runs_the_table_shows():
  """The README's study command is the plain one for a study of every
  configuration at the chosen step count and settings; for tables of other
  runs it carries the flags that train those runs (their configurations,
  their step count, --tuning='' where they were untuned though a tuning
  choice exists)."""
  from projects.group_note import comparisons  # pylint: disable=g-import-not-at-top
  every = {n: {"step": {"mean": 4000.0, "n": 3}} for n in comparisons.CONFIGS}
  chose = {"chosen_steps": 4000}
  tuned = {n: {"settings": {}} for n in comparisons.CONFIGS}
  assert study_docs.study_command(every, tuned, chose, True) == (
      study_docs.STUDY_COMMAND)
  old = {n: {"step": {"mean": 2000.0, "n": 3}} for n in ("gi_centroid",
                                                          "item_item")}
  old["raw pixels"] = {"image_size": {"mean": 28.0}}  # trains nothing
  # In the study's order (comparisons.CONFIGS: the note's four first).
  assert study_docs.study_command(old, None, chose, True) == (
      study_docs.STUDY_COMMAND
      + " --configs=gi_centroid,item_item --steps=2000 --tuning='' "
      "--runs=runs/study_2000_untuned --records=''")
  assert "--tuning" not in study_docs.study_command(old, None, chose, False)
  assert "--steps" not in study_docs.study_command(old, None, None, True)
  # Some configurations only, at the defaults: the default runs and records.
  assert study_docs.study_command(
      {n: every[n] for n in ("gi_centroid", "item_item")}, tuned, chose,
      True) == study_docs.STUDY_COMMAND + " --configs=gi_centroid,item_item"


def test_a_configuration_not_above_its_own_untrained_encoder_is_named():
  """The answer names each configuration that training did not lift above
  its own untrained encoder on the tuning score by more than the seed
  spread (n >= 3), saying whether it is below or level; not one above by
  more than the spread, not one with 2 seeds, not an untrained row."""
  from projects.group_note import tune  # pylint: disable=g-import-not-at-top
  key = tune.SCORE[1]
  stat = lambda mean, sd, n=3: {"mean": mean, "sd": sd, "n": n}
  metrics = {
      "below": {"step": stat(4, 0), "eval." + key: stat(0.07, 0.01),
                    "untrained." + key: stat(0.12, 0.01)},
      "level": {"step": stat(4, 0), "eval." + key: stat(0.13, 0.02),
                "untrained." + key: stat(0.12, 0.01)},
      "two_seeds": {"step": stat(4, 0, 2),
                    "eval." + key: stat(0.07, 0.01, 2),
                    "untrained." + key: stat(0.12, 0.01, 2)},
      "learned": {"step": stat(4, 0), "eval." + key: stat(0.16, 0.01),
                  "untrained." + key: stat(0.12, 0.01)},
      "pixels": {key: stat(0.01, 0.0)},  # trains nothing: no floor
  }
  # By hand: mean - sd <= floor + sd for below and level only; below
  # (mean + sd < floor - sd) for below only.
  assert [(n, below) for n, _, _, below
          in study_docs.not_above_own_floor(metrics)] == [
              ("below", True), ("level", False)]
  text = study_docs._floor_text(metrics)
  assert ("not a paired test): below (0.070 ± 0.010 vs 0.120 ± 0.010, "
          "n = 3; below it by more than both sds) and level (0.130 ± 0.020 "
          "vs 0.120 ± 0.010, n = 3; the sd bands overlap).") in text
  # What the bands show, and no claim that there is no gain.
  assert ("No gain from training beyond that spread is seen on what this "
          "score rewards (which is not a measured absence of one)") in text
  assert "showed" not in text
  for name in ("two_seeds", "learned", "pixels"):
    assert name not in text
  for name in ("below", "level"):
    metrics[name]["eval." + key] = stat(0.15, 0.001)
  assert study_docs._floor_text(metrics) == ""


def test_a_collapsed_encoder_is_named_by_its_own_untrained_distance():
  """A configuration whose groups of different unseen alphabets sit under
  COLLAPSED of its untrained encoder's distance is named as collapsed, with
  both means; one at the cut, one far above, a baseline that trains
  nothing and one without an untrained row are not."""
  from projects.group_note import comparisons  # pylint: disable=g-import-not-at-top
  key = comparisons.COLLAPSE_PATH
  stat = lambda mean, sd=0.0, n=3: {"mean": mean, "sd": sd, "n": n}
  cut = comparisons.COLLAPSED
  metrics = {
      "shrunk": {"step": stat(4), "eval." + key: stat(0.0003, 0.00002),
                 "untrained." + key: stat(0.126, 0.004)},
      "at_cut": {"step": stat(4), "eval." + key: stat(cut * 0.2),
                 "untrained." + key: stat(0.2)},
      "spread": {"step": stat(4), "eval." + key: stat(0.9),
                 "untrained." + key: stat(0.13)},
      "no_floor": {"step": stat(4), "eval." + key: stat(0.0001)},
      # Trains nothing (no step count), though its stats would count.
      "pixels": {"eval." + key: stat(0.0001), "untrained." + key: stat(0.1)},
  }
  assert [n for n, _, _ in comparisons.collapsed(metrics)] == ["shrunk"]
  text = study_docs._collapsed_text(metrics)
  assert text.startswith("Collapsed: groups of different unseen alphabets "
                         "sit, on average, under 1% of the distance its own "
                         "untrained encoder puts between them (trained vs "
                         "untrained; a cut set after the tuned study's "
                         "runs): ")
  assert text.endswith("Its rows describe a collapsed encoder at the "
                       "study's settings, not the method in general.")
  assert "shrunk (0.0003 ± 0.0000 vs 0.126 ± 0.004, n = 3)" in text
  for name in ("at_cut", "spread", "no_floor", "pixels"):
    assert name not in text
  two = dict(metrics, shrunk_too=metrics["shrunk"])
  text = study_docs._collapsed_text(two)
  assert "their own untrained encoders put between them" in text
  assert "Their rows describe collapsed encoders at" in text
  del metrics["shrunk"]
  assert study_docs._collapsed_text(metrics) == ""


def test_the_related_row_is_chosen_among_the_systems_with_runs():
  """The legend names the related systems the choice was among and those
  with no finished run yet."""
  related = study_docs.RELATED
  assert study_docs._related_candidates({n: {} for n in related}) == (
      study_docs._names(related))
  some = {n: {} for n in related[:2]}
  assert study_docs._related_candidates(some) == (
      f"{study_docs._names(related[:2])} ({study_docs._names(related[2:])}: "
      "no finished run yet, so not among them)")
  # Where a score chose, a system with runs but no score is not a candidate.
  from projects.group_note import tune  # pylint: disable=g-import-not-at-top
  score = {"eval." + tune.SCORE[1]: {"mean": 0.3, "sd": 0.0, "n": 3}}
  scored = dict(some, **{related[0]: score})
  assert study_docs._related_candidates(scored) == (
      f"{related[0]} ({study_docs._names(related[2:])}: no finished run "
      f"yet; {related[1]}: no tuning score, so not among them)")
  assert study_docs._related_how(scored).startswith("the best mean")
  assert study_docs._related_how(some).startswith("the first in the study")


def test_training_measured_worse_and_the_related_row_by_the_tuning_score():
  """A configuration whose own "training" rows are measured worse than its
  untrained encoder is named with those rows' differences, and no other;
  the related system shown is the one with the best tuning score."""
  from projects.group_note import comparisons  # pylint: disable=g-import-not-at-top
  from projects.group_note import tables  # pylint: disable=g-import-not-at-top
  from projects.group_note import tune  # pylint: disable=g-import-not-at-top

  jitter = (0.0, 0.011, -0.009)
  names = comparisons.NOTE_FOUR + ("triplet", "groupface")

  def result(name, s, i):
    r = _fake_result(0.3 + jitter[(s + i) % 3], 0.4 + jitter[s] / 2,
                     0.6 + jitter[(s + 2 * i) % 3])
    low = _fake_result(0.2 + jitter[(s + i) % 3] / 3, 0.3, 0.8)["eval"]
    if name == "triplet":  # far below its untrained encoder at 5 drawings
      r["eval"]["unseen_alphabets"]["disjoint_characters"]["size_curve"][
          "5"]["recall_at_1"]["mean"] = 0.05 + jitter[s] / 3
    # The tuning's score: groupface (last in RELATED) best.
    held = 0.35 if name == "groupface" else 0.25
    r["eval"]["heldout_characters"] = {"disjoint_characters": {
        "size_curve": {"5": {"recall_at_1": {"mean": held + jitter[s]}}}}}
    return dict(r, untrained=low)

  results = {n: {s: result(n, s, i) for s in range(3)}
             for i, n in enumerate(names)}
  text = tables.summary_tables(results, list(results),
                               type("S", (), {"steps": 4, "eval_every": 0}))
  metrics = json.loads(text["study_metrics.json"])
  rows = study_docs.read_paired(text["study_paired.md"])
  worse = study_docs._worse_than_untrained_text(rows, metrics)
  assert worse.startswith("Measurably worse than its own untrained encoder")
  assert "triplet on recall@1 at 5 drawings (-0.1" in worse
  for name in comparisons.NOTE_FOUR + ("groupface",):
    assert f" {name} on" not in worse
  # A configuration the training bullet has said is not named again.
  assert study_docs._worse_than_untrained_text(rows, metrics,
                                               ["triplet"]) == ""
  # groupface has the best tuning score, though triplet comes first in
  # RELATED; without any score, RELATED's order decides, and the answer
  # says which.
  assert tune.SCORE[1].startswith("heldout_characters.")
  assert study_docs.related_chosen_on_validation(metrics) == "groupface"
  shown = next(l for l in study_docs.answer(metrics, rows).splitlines()
               if l.startswith("- Of the related systems"))
  assert ("groupface (the best mean over the study's seeds on the tuning's "
          "validation score") in shown
  # The discriminating metrics first, then the note's ratio.
  assert shown.index("Lake's error") < shown.index(
      "; by the note's own metric, it is ") < shown.index(" on ratio")
  for name in names:
    metrics[name].pop("eval." + tune.SCORE[1])
  assert study_docs.related_chosen_on_validation(metrics) == "triplet"
  assert "triplet (the first in the study's order: none has the tuning's " \
      "score" in study_docs.answer(metrics, rows)
