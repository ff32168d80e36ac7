"""The four counting runs side by side, beside the paper's numbers.

  python -m projects.set_counting.table [--runs=runs/set_counting]
      [--out=results/set_counting] [--check]

Reads RUNS/NAME/metrics.json and RUNS/NAME/log.jsonl of each architecture
and writes OUT/table.md, OUT/curves.png (validation accuracy against step)
and OUT/metrics.json, then the table into the README's generated block
(--check: only says whether the README holds it). A run that has not
finished is a row that says so.
"""
import argparse
import os
import sys

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


def read_run(workdir: str):
  """(metrics.json or None, the learning curve's rows)."""
  return train.read_metrics(workdir), (
      train.read_log(workdir) if os.path.isdir(workdir) else [])


def summary(runs: dict) -> dict:
  """{name: the test result, the paper's, steps and times} of each run."""
  out = {}
  for name in NAMES:
    metrics, _ = runs[name]
    row = {"paper_accuracy": PAPER[name][0], "paper_pm": PAPER[name][1]}
    if metrics:
      row.update(test=metrics["test"], steps=metrics["step"],
                 train_s=metrics["train_s"], wall_s=metrics["wall_s"],
                 floor_constant_count=metrics["floor_constant_count"])
    out[name] = row
  return out


def table(rows: dict) -> str:
  lines = ["| architecture | ours: test accuracy [Wilson 95 %] | test sets "
           "| paper | steps | train h | wall h |",
           "|---|---|---|---|---|---|---|"]
  floor = None
  for name in NAMES:
    r = rows[name]
    paper = f"{r['paper_accuracy']:.4f} ± {r['paper_pm']:.4f}"
    if "test" not in r:
      lines.append(f"| {LABELS[name]} | not run | – | {paper} | – | – | – |")
      continue
    t = r["test"]
    lo, hi = t["wilson95"]
    lines.append(f"| {LABELS[name]} | {t['accuracy']:.4f} [{lo:.4f}, "
                 f"{hi:.4f}] | {t['num_sets']} | {paper} | {r['steps']} | "
                 f"{r['train_s'] / 3600:.2f} | {r['wall_s'] / 3600:.2f} |")
    floor = floor or r["floor_constant_count"]
  if floor:
    lo, hi = floor["wilson95"]
    lines.append(f"| floor: always {floor['count']} (the validation sets' "
                 f"most frequent count) | {floor['accuracy']:.4f} [{lo:.4f}, "
                 f"{hi:.4f}] | {floor['num_sets']} | – | – | – | – |")
  return "\n".join(lines) + "\n"


def plot_curves(runs: dict, path: str) -> None:
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, ax = plt.subplots(figsize=(7, 4.5))
  for i, name in enumerate(NAMES):
    rows = [r for r in runs[name][1] if "val_accuracy" in r]
    colour = f"C{i}"
    if rows:
      ax.plot([r["step"] for r in rows], [r["val_accuracy"] for r in rows],
              color=colour, marker=".", label=f"{LABELS[name]} (ours, val)")
    ax.axhline(PAPER[name][0], color=colour, ls=":", lw=1,
               label=f"{LABELS[name]} (paper, test)")
  floors = [m["floor_constant_count"] for m, _ in runs.values() if m]
  if floors:
    ax.axhline(floors[0]["accuracy"], color="grey", ls="--", lw=1,
               label=f"always {floors[0]['count']} (floor, test)")
  ax.set_xlabel("training step (batches of 32 sets)")
  ax.set_ylabel("accuracy: round(rate) = count")
  ax.set_title("Omniglot unique-character counting: validation accuracy")
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
  runs = {n: read_run(os.path.join(args.runs, n)) for n in NAMES}
  rows = summary(runs)
  text = table(rows)
  block = (f"{text}\n`python -m projects.set_counting.table` wrote this "
           f"from {args.runs}; one seed per architecture.\n")
  if args.check:
    return generated_block.write(README, BLOCK, block, check=True,
                                 source=args.out,
                                 tool="-m projects.set_counting.table")
  os.makedirs(args.out, exist_ok=True)
  with open(os.path.join(args.out, "table.md"), "w") as f:
    f.write("# Omniglot unique-character counting (Lee et al., 2019)\n\n"
            "Test accuracy over the fixed test sets of the evaluation "
            "alphabets, one seed per architecture; the interval is the "
            "Wilson 95 % interval over those sets (it leaves out the "
            "seed-to-seed spread, so no architecture is claimed better than "
            "another from it). Paper: its unique-counting table, mean ± the "
            "figure it reports. Train h leaves out validation; wall h "
            "includes it. See projects/set_counting/README.md.\n\n" + text)
  train.write_json(os.path.join(args.out, "metrics.json"), rows)
  plot_curves(runs, os.path.join(args.out, "curves.png"))
  generated_block.write(README, BLOCK, block, check=False, source=args.out,
                        tool="-m projects.set_counting.table")
  print(f"Wrote {args.out}/table.md, curves.png, metrics.json and the "
        f"README's table.")
  return 0


if __name__ == "__main__":
  sys.exit(main())
