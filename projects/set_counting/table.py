"""The four counting runs side by side, beside the paper's numbers.

  python -m projects.set_counting.table [--runs=runs/set_counting]
      [--out=results/set_counting] [--check]

Reads RUNS/NAME/seedS/metrics.json and log.jsonl of each architecture and seed
and writes OUT/table.md, OUT/curves.png (validation accuracy against step)
and OUT/metrics.json, then the table into the README's generated block
(--check: only says whether the README holds it). A run that has not
finished is a row that says so.
"""
import argparse
import glob
import importlib
import json
import math
import os
import sys

from grouprep import stats
from projects.set_counting import train
from tools import generated_block

NAMES = ("rff_pooling", "rff_pma", "sab_pooling", "sab_pma")
# Lee et al. (2019), the unique-character counting table: test accuracy,
# mean +- what the paper reports beside it.
PAPER = {"rff_pooling": (0.4382, 0.0072), "rff_pma": (0.4572, 0.0076),
         "sab_pooling": (0.5659, 0.0077), "sab_pma": (0.6037, 0.0075)}
LABELS = {"rff_pooling": "rFF + Pooling", "rff_pma": "rFF + PMA",
          "sab_pooling": "SAB + Pooling", "sab_pma": "SAB + PMA"}
README = os.path.join(os.path.dirname(__file__), "README.md")
BLOCK = "set-counting-table"
# The paper's ordering, SAB + PMA > SAB + Pooling > rFF + PMA >= rFF +
# Pooling, as differences a - b, and the gap the issue asks of fewer steps.
ORDERING = (("sab_pma", "sab_pooling"), ("sab_pooling", "rff_pma"),
            ("rff_pma", "rff_pooling"), ("sab_pma", "rff_pooling"))
# The paper's steps as we read them (README), and the least SAB + PMA −
# rFF + Pooling that counts as the paper's gap at fewer steps (its +0.166).
PAPER_STEPS = 200_000
GAP = 0.10


def read_runs(runs_dir: str) -> dict:
  """{name: {seed: (metrics.json or None, the learning curve's rows)}} of
  every RUNS/NAME/seedS directory. A finished run whose network is not
  configs/NAME.py's (another model section in its metrics.json's config)
  is set aside, with a warning that says why: metrics None."""
  out = {}
  for name in NAMES:
    seeds = {}
    for path in glob.glob(os.path.join(runs_dir, name, "seed*")):
      tail = os.path.basename(path)[len("seed"):]
      if tail.isdigit() and os.path.isdir(path):
        metrics = train.read_metrics(path)
        other = metrics and model_difference(name, metrics)
        if other:
          print(f"{path}: set aside, another network than "
                f"configs/{name}.py's ({other}).", file=sys.stderr)
          metrics = None
        seeds[int(tail)] = (metrics, train.read_log(path))
    out[name] = dict(sorted(seeds.items()))
  return out


def model_difference(name: str, metrics: dict) -> str:
  """How the model a run's metrics.json records differs from configs/NAME.py's
  ("" when it does not); a field the run predates has train.ADDED_LATER's
  value."""
  want = importlib.import_module(
      f"projects.set_counting.configs.{name}").get_config().model.to_dict()
  got = {k.split(".", 1)[1]: v for k, v in train.ADDED_LATER.items()
         if k.startswith("model.")}
  got.update(metrics.get("config", {}).get("model", {}))
  return "; ".join(f"model.{k}={got.get(k)!r} there, {v!r} here"
                   for k, v in sorted(want.items()) if got.get(k) != v)


def summary(runs: dict) -> dict:
  """{name: the paper's number, each finished seed's test result, steps and
  times, and the mean ± sd of its test accuracy over the seeds}."""
  out = {}
  for name in NAMES:
    row = {"paper_accuracy": PAPER[name][0], "paper_pm": PAPER[name][1],
           "seeds": {}}
    for seed, (metrics, _) in runs[name].items():
      if metrics:
        row["seeds"][seed] = dict(
            test=metrics["test"], steps=metrics["step"],
            train_s=metrics["train_s"], wall_s=metrics["wall_s"],
            floor_constant_count=metrics["floor_constant_count"],
            floor_untrained=metrics.get("floor_untrained"))
    if row["seeds"]:
      row["accuracy"] = stats.mean_sd(
          [r["test"]["accuracy"] for r in row["seeds"].values()])
    out[name] = row
  return out


def differences(rows: dict) -> list:
  """The paper's ordering as paired differences (a - b over the seeds both
  finished), with Benjamini-Hochberg q-values over these four."""
  out = []
  for a, b in ORDERING:
    seeds = sorted(set(rows[a]["seeds"]) & set(rows[b]["seeds"]))
    if not seeds:
      continue
    acc = lambda n: [rows[n]["seeds"][s]["test"]["accuracy"] for s in seeds]
    d = stats.paired_difference(acc(a), acc(b))
    out.append(dict(d, a=a, b=b, seeds=seeds,
                    paper=PAPER[a][0] - PAPER[b][0]))
  # The family: the testable rows (>= MIN_SEEDS seeds); the others get none.
  p = [d["p"] if d["testable"] else float("nan") for d in out]
  for d, q in zip(out, stats.bh_qvalues(p)):
    d["q"] = float(q)
    d["reading"] = (
        f"untested (n = {d['n']} < {stats.MIN_SEEDS})" if not d["testable"]
        else "untested (the same difference at every seed: no spread)"
        if math.isnan(d["p"]) else
        "measured" if d["q"] < 0.05 else "no measurable difference")
  return out


def finding(rows: dict, diffs: list) -> str:
  """The table in words, once every architecture has MIN_SEEDS seeds: each
  pair of the paper's ordering measured or not (q < 0.05 over these rows),
  which steps of the paper's order are measured (a mean's order alone is
  not evidence), and the gap against GAP by its interval (shown above or
  below GAP only where the interval is)."""
  n = min(len(rows[name]["seeds"]) for name in NAMES)
  if n < stats.MIN_SEEDS:
    return (f"Read nothing yet: the fewest seeds of an architecture is {n}, "
            f"and a difference is read over {stats.MIN_SEEDS}.")
  steps = sorted({x["steps"] for name in NAMES
                  for x in rows[name]["seeds"].values()})
  means = {name: rows[name]["accuracy"]["mean"] for name in NAMES}
  pairs = []
  for d in diffs:
    text = (f"{LABELS[d['a']]} − {LABELS[d['b']]} {d['mean']:+.3f} "
            f"[{d['low']:+.3f}, {d['high']:+.3f}]")
    pairs.append(f"{text} ({d['reading']})")
  gap = next((d for d in diffs if (d["a"], d["b"]) == ("sab_pma",
                                                        "rff_pooling")), None)
  steps_of_order = {(d["a"], d["b"]): d for d in diffs}
  step = lambda a, b: f"{LABELS[a]} > {LABELS[b]}"
  measured = lambda a, b: steps_of_order.get((a, b), {}).get(
      "reading") == "measured"  # a pair with no common seed: not measured
  shown = [step(a, b) for a, b in ORDERING[:3]
           if measured(a, b) and steps_of_order[a, b]["mean"] > 0]
  reversed_ = [step(a, b) for a, b in ORDERING[:3]
               if measured(a, b) and steps_of_order[a, b]["mean"] <= 0]
  open_ = [(a, b) for a, b in ORDERING[:3] if not measured(a, b)]
  in_order = all(means[a] > means[b] for a, b in open_)
  order = ("Of the paper's order, "
           + (_and(shown) + (" is" if len(shown) == 1 else " are")
              + " measured" if shown else "no step is measured")
           + ("" if not reversed_ else
              "; " + _and(reversed_) + " "
              + ("is" if len(reversed_) == 1 else "are")
              + " measured the other way")
           + ("" if not open_ else
              "; " + _and([step(a, b) for a, b in open_]) + " "
              + ("is" if len(open_) == 1 else "are") + " not (the means "
              + ("fall that way" if in_order else "do not all fall that way")
              + f", which at {n} seeds is not evidence)"))
  if gap is None:
    return (f"At {', '.join(map(str, steps))} steps, {n} seeds: "
            + "; ".join(pairs) + ". " + order + ". SAB + PMA and rFF + "
            "Pooling share no seed, so their gap is not read.")
  interval = f"[{gap['low']:+.3f}, {gap['high']:+.3f}]"
  against = (f"above the {GAP:+.2f} we read as the paper's gap at fewer "
             "steps (the whole interval is)" if gap["low"] >= GAP else
             f"below the {GAP:+.2f} we read as the paper's gap at fewer "
             "steps (the whole interval is)" if gap["high"] < GAP else
             f"not shown against the {GAP:+.2f} we read as the paper's gap "
             "at fewer steps: the interval holds values on both sides of it")
  below = all(means[m] < PAPER[m][0] for m in NAMES)
  return (f"At {', '.join(map(str, steps))} steps "
          f"({100 * max(steps) / PAPER_STEPS:.0f} % of the paper's "
          f"{PAPER_STEPS}), {n} seeds, paired by seed, 95 % t-intervals: "
          + "; ".join(pairs) + ". " + order + ". SAB + PMA − rFF + Pooling "
          f"is {gap['mean']:+.3f} {interval} (the paper's "
          f"{gap['paper']:+.3f}): {against}"
          + ("; every architecture stays below the paper's accuracy."
             if below else "."))


def _and(items) -> str:
  items = list(items)
  return items[0] if len(items) == 1 else (
      ", ".join(items[:-1]) + " and " + items[-1])


def _fmt_interval(lo, hi):
  return f"[{lo:.4f}, {hi:.4f}]"


def table(rows: dict) -> str:
  lines = ["| architecture | seeds | test accuracy, mean ± sd | each seed "
           "[Wilson 95 % over its test sets] | untrained | paper | steps | "
           "train h a run |", "|---|---|---|---|---|---|---|---|"]
  floor = None
  for name in NAMES:
    r = rows[name]
    paper = f"{r['paper_accuracy']:.4f} ± {r['paper_pm']:.4f}"
    if not r["seeds"]:
      lines.append(f"| {LABELS[name]} | 0 | not run | – | – | {paper} | – "
                   f"| – |")
      continue
    runs = r["seeds"].values()
    acc = r["accuracy"]
    sd = "–" if acc["n"] < 2 else f"{acc['sd']:.4f}"
    each = "; ".join(
        f"seed {s}: {x['test']['accuracy']:.4f} "
        f"{_fmt_interval(*x['test']['wilson95'])}"
        for s, x in r["seeds"].items())
    steps = sorted({x["steps"] for x in runs})
    hours = sum(x["train_s"] for x in runs) / len(runs) / 3600
    untrained = [x["floor_untrained"]["accuracy"] for x in runs
                 if x.get("floor_untrained")]
    untrained = (f"{stats.mean_sd(untrained)['mean']:.4f}" if untrained
                 else "–")
    lines.append(f"| {LABELS[name]} | {acc['n']} | {acc['mean']:.4f} ± {sd} "
                 f"| {each} | {untrained} | {paper} | "
                 f"{', '.join(map(str, steps))} | {hours:.2f} |")
    floor = floor or next(iter(runs))["floor_constant_count"]
  if floor:
    lines.append(f"| floor: always {floor['count']} (the validation sets' "
                 f"most frequent count) | – | {floor['accuracy']:.4f} | "
                 f"{_fmt_interval(*floor['wilson95'])} | – | – | – | – |")
  diffs = differences(rows)
  if diffs:
    lines += ["", "| difference (paired by seed) | seeds | ours: mean "
              "[95 % t-interval] | q (BH, these rows) | reading | paper |",
              "|---|---|---|---|---|---|"]
    for d in diffs:
      interval = ("–" if d["n"] < 2 else _fmt_interval(d["low"], d["high"]))
      q = "–" if math.isnan(d["q"]) else f"{d['q']:.3f}"
      lines.append(f"| {LABELS[d['a']]} − {LABELS[d['b']]} | {d['n']} | "
                   f"{d['mean']:+.4f} {interval} | {q} | {d['reading']} | "
                   f"{d['paper']:+.4f} |")
    lines += ["", finding(rows, diffs)]
  return "\n".join(lines) + "\n"


def plot_curves(runs: dict, path: str) -> None:
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, ax = plt.subplots(figsize=(7, 4.5))
  floors = []
  for i, name in enumerate(NAMES):
    colour = f"C{i}"
    for j, (seed, (metrics, log)) in enumerate(runs[name].items()):
      rows = [r for r in log if "val_accuracy" in r]
      if rows:
        ax.plot([r["step"] for r in rows], [r["val_accuracy"] for r in rows],
                color=colour, marker=".", lw=1, alpha=0.8,
                label=f"{LABELS[name]} (ours, val)" if j == 0 else None)
      if metrics:
        floors.append(metrics["floor_constant_count"])
    ax.axhline(PAPER[name][0], color=colour, ls=":", lw=1,
               label=f"{LABELS[name]} (paper, test)")
  if floors:
    ax.axhline(floors[0]["accuracy"], color="grey", ls="--", lw=1,
               label=f"always {floors[0]['count']} (floor, test)")
  ax.set_xlabel("training step (batches of 32 sets)")
  ax.set_ylabel("accuracy: round(rate) = count")
  ax.set_title("Omniglot unique-character counting: validation accuracy "
               "(a line a seed)")
  ax.legend(fontsize=7, ncol=2)
  ax.grid(alpha=0.3)
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--runs", default="runs/set_counting")
  parser.add_argument("--out", default="results/set_counting")
  parser.add_argument("--check", action="store_true",
                      help="only check that the README holds the table")
  args = parser.parse_args(argv)
  runs = read_runs(args.runs)
  rows = summary(runs)
  source = args.runs
  kept = os.path.join(args.out, "metrics.json")
  absent = [n for n in NAMES if not rows[n]["seeds"]]
  if absent and os.path.exists(kept):
    # An architecture with no finished run here (a fresh clone, a machine
    # without runs/): its rows come from the results its runs left, so the
    # table is never emptied of what it cannot rebuild.
    with open(kept) as f:
      held = {n: dict(r, seeds={int(s): x for s, x in r["seeds"].items()})
              for n, r in json.load(f).items()}  # JSON keys are strings
    for name in absent:
      if held.get(name, {}).get("seeds"):
        rows[name] = held[name]
    if len(absent) == len(NAMES):
      runs, source = None, kept  # every row from the results
      print(f"No finished run in {args.runs}: the table is rewritten from "
            f"{kept}, and curves.png (which needs the runs' logs) is kept.")
    else:
      source = f"{args.runs} ({_and([LABELS[n] for n in absent])}: {kept})"
      print(f"No finished run of {', '.join(absent)} in {args.runs}: their "
            f"rows come from {kept}.")
  text = table(rows)
  block = (f"{text}\n`python -m projects.set_counting.table` wrote this "
           f"from {source}.\n")
  if args.check:
    return generated_block.write(README, BLOCK, block, check=True,
                                 source=args.out,
                                 tool="-m projects.set_counting.table")
  os.makedirs(args.out, exist_ok=True)
  with open(os.path.join(args.out, "table.md"), "w") as f:
    f.write("# Omniglot unique-character counting (Lee et al., 2019)\n\n"
            "Test accuracy over the fixed test sets of the evaluation "
            "alphabets: mean ± sd over the seeds, and each seed's with the "
            "Wilson 95 % interval over those sets (which leaves out the "
            "seed-to-seed spread). A difference between architectures is "
            "read only over >= 3 seeds, paired by seed, and called measured "
            "where its Benjamini-Hochberg q over the rows shown is below "
            "0.05 (SPEC §5). Untrained: the same network at its "
            "initialisation, mean over the seeds (a floor beside the "
            "constant count). Paper: its unique-counting table as our issue "
            "quotes it (unverified: the README), mean ± the figure it "
            "reports. Untuned: all four at the paper's recipe as our issue "
            "reads it (Adam at 1e-4, 32 sets a batch), no validation "
            "sweep. The 10000 test sets are our choice (the paper's number "
            "of test sets is in its appendix, which we could not read). "
            "Train h leaves out validation. See "
            "projects/set_counting/README.md.\n\n" + text)
  train.write_json(kept, rows)
  if runs is not None:
    plot_curves(runs, os.path.join(args.out, "curves.png"))
  generated_block.write(README, BLOCK, block, check=False, source=args.out,
                        tool="-m projects.set_counting.table")
  print(f"Wrote {args.out}/table.md, curves.png, metrics.json and the "
        f"README's table.")
  return 0


if __name__ == "__main__":
  sys.exit(main())
