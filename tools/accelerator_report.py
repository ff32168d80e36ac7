"""The accelerator check's numbers as Markdown, written into
docs/accelerators.md between its `<!-- accelerator-check -->` markers from
results/accelerator_check/summary.json (tools/accelerator_check.sh's
summary), so the page never holds a number the check did not write. Which
CPU study the check compared with is read from the means it recorded: the
kept study in results/ that holds them (`compared_study`).

  python tools/accelerator_report.py [--summary results/accelerator_check/summary.json] \
      [--doc docs/accelerators.md] [--check]

--check exits 1 when the page's block differs from what the summary gives
(the test suite runs it).
"""
import argparse
import json
import os
import sys

import generated_block  # tools/, beside this file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _f(x, digits=3):
  return "—" if x is None else f"{x:.{digits}f}"


# The CPU studies results/ keeps: (how the page names it, its folder;
# projects.group_note.before_after.BEFORE for the earlier one, spelled out
# here so this tool imports no JAX); the kept earlier study first, so a
# check against it keeps its name once the study in results/ is replaced.
STUDIES = (("the earlier, untuned CPU study (`results/study_2000_untuned/`)",
            os.path.join("results", "study_2000_untuned")),
           ("the CPU study in `results/`", "results"))


def compared_study(rows, config: str = "gi_centroid", root: str = ROOT) -> str:
  """Which of STUDIES holds the means the check compared with (its rows'
  study_mean for config), with its step count: the study in results/ may
  have been replaced since the check ran."""
  for name, folder in STUDIES:
    path = os.path.join(root, folder, "study_metrics.json")
    if not os.path.exists(path):
      continue
    with open(path) as f:
      recorded = json.load(f).get(config, {})
    means = [(recorded.get(f"eval.{r['key']}") or recorded.get(r["key"])
              or {}).get("mean") for r in rows]
    if all(m is not None and abs(m - r["study_mean"]) <= 1e-9 * max(1, abs(m))
           for m, r in zip(means, rows)):
      return f"{name}, {recorded['step']['mean']:.0f} steps"
  return "a CPU study no folder of results/ holds now"


def render(s: dict, main_metrics: dict = None) -> str:
  """The block's Markdown from a summary (and the main job's metrics.json,
  for the step count of summaries that do not state it)."""
  st = s.get("stack") or {}
  lines = [f"Measured by `tools/accelerator_check.sh` on "
           f"{', '.join(st.get('devices') or ['?'])} (backend "
           f"{st.get('backend')}), Python {st.get('python')}, jax "
           f"{st.get('jax')}, jaxlib {st.get('jaxlib')}, flax "
           f"{st.get('flax')}, orbax {st.get('orbax')}"
           + (f", grouprep commit {st['commit']}" if st.get("commit") else "")
           + "; `results/accelerator_check/` holds its outputs.", ""]
  parts = {p["part"]: p for p in s.get("parts") or []}
  lines += ["| part | exit status | seconds |", "|---|---|---|"]
  lines += [f"| {p['part']} | {p['rc']} | {p['seconds']} |"
            for p in s.get("parts") or []]
  lines += ["", "**Step and loop** (images/s, one device):", "",
            "| what | loss | pooling | batch images | precision | images/s | median step (ms) |",
            "|---|---|---|---|---|---|---|"]
  for b in s.get("bench") or []:
    what = b.get("what", "step")
    lines.append(
        f"| {what} | {b.get('loss', b.get('config', ''))} | "
        f"{b.get('pooling', '')} | {b['batch_images']} | {b['precision']} | "
        f"{b['images_per_s']:,.0f} | "
        f"{_f(b['median_step_s'] * 1e3, 2) if 'median_step_s' in b else '—'} |")
  m = s.get("main_job")
  if m:
    step = m.get("step", (main_metrics or {}).get("step", "?"))
    lines += ["", f"**The README's main job** (gi_centroid, {step} steps): "
              f"training {_f(m.get('train_wall_s'), 1)} s, evaluation "
              f"{_f(m.get('eval_seconds'), 1)} s; unseen-alphabet ratio "
              f"{_f(m['unseen_ratio'])}, 20-way 1-shot "
              f"{_f(m['unseen_20way_1shot'])}; precision "
              f"{m.get('matmul_precision')}."]
  curve = s.get("protonet_val_curve") or []
  if curve:
    t = s.get("protonet_time_to_0.955_s")
    lines += ["", "**ProtoNet on Vinyals val** (trained on vinyals_train; "
              "20-way 1-shot of the evaluation during training, "
              "eval.during_training.fewshot.episodes episodes each; test not "
              "read): "
              + ("the first reading at or above 0.955 came after " + _f(t, 1)
                 + " s of training" if t
                 else "no reading reached 0.955 within the part's time limit")
              +
              "; the curve (step, training s, accuracy): " +
              ", ".join(f"({a}, {b}, {_f(c)})" for a, b, c in curve) + "."]
  rows = s.get("study_compare") or []
  if rows:
    lines += ["", "**gi_centroid at the study's settings, seeds 0–2, against "
              f"{compared_study(rows)}** (`tools/compare_with_study.py`):", "",
              "| metric | GPU mean (n) | CPU study mean ± sd (n) | within 3 sd/√n |",
              "|---|---|---|---|"]
    lines += [f"| {r['metric']} | {_f(r['new_mean'])} ({r['new_n']}) | "
              f"{_f(r['study_mean'])} ± {_f(r['study_sd'])} ({r['study_n']}) | "
              f"{'yes' if r['within'] else 'no'} |" for r in rows]
  eff = s.get("precision_effect") or []
  if eff:
    chosen = eff[0].get("medoid_chosen_on") or (
        "unit-normalised items in float64 (the tool's first version; "
        "gi_medoid itself chooses among raw outputs)")
    lines += ["", f"**Medoids under lower precision** (`tools/precision_effect.py`"
              f" on {eff[0]['config']} at step {eff[0]['step']}, "
              f"{eff[0]['items']:,} unseen-alphabet drawings, the medoid "
              f"chosen among {chosen}, against `highest`):", "",
              "| precision | max abs change | median relative change | "
              "character medoids changed | alphabet medoids changed |",
              "|---|---|---|---|---|"]
    for r in eff:
      ch = r["medoid_changed character (20 drawings)"]
      al = r["medoid_changed alphabet (all its drawings)"]
      lines.append(f"| {r['precision']} | {r['max_abs_embedding_change']:.2g} | "
                   f"{r['median_rel_embedding_change']:.2g} | "
                   f"{ch['changed']} / {ch['groups']} | "
                   f"{al['changed']} / {al['groups']} |")
  return "\n".join(lines) + "\n"


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--summary", default=os.path.join(
      ROOT, "results", "accelerator_check", "summary.json"))
  p.add_argument("--doc", default=os.path.join(ROOT, "docs", "accelerators.md"))
  p.add_argument("--check", action="store_true")
  args = p.parse_args(argv)
  with open(args.summary) as f:
    summary = json.load(f)
  beside = os.path.join(os.path.dirname(args.summary), "main_metrics.json")
  main_metrics = None
  if os.path.exists(beside):
    with open(beside) as f:
      main_metrics = json.load(f)
  block = render(summary, main_metrics)
  return generated_block.write(args.doc, "accelerator-check", block, args.check,
                               args.summary, "tools/accelerator_report.py")

if __name__ == "__main__":
  sys.exit(main())
