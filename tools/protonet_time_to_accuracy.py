"""ProtoNet's 20-way 1-shot accuracy against training wall time: the tuning
run's curve on Vinyals val, the earlier recipe's curve, and the final runs'
single reading of Vinyals test (1000 episodes, 95% CI), with the target.

  python tools/protonet_time_to_accuracy.py \
      --val-run runs/protonet15_val --val-run runs/protonet15_val_c50 \
      --test-run runs/protonet15 \
      --earlier-run runs/protonet --out results/protonet_time_to_accuracy.png

Wall time is training time as train_log.jsonl records it (evaluation during
training excluded). Prints one line per run.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from grouprep import logs, report  # pylint: disable=g-import-not-at-top


def curve(workdir, key):
  """[(minutes, accuracy)] of eval_log.jsonl's `key`."""
  log = logs.read(workdir, "eval")
  return [(r["wall_s"] / 60, r[key]) for _, r in sorted(log.items())
          if key in r]


def final_test(workdir):
  """(training minutes, {setting: (mean, ci95)}) of a finished run."""
  with open(os.path.join(workdir, "metrics.json")) as f:
    m = json.load(f)
  train = logs.read(workdir, "train")
  minutes = train[max(train)]["wall_s"] / 60
  shots = m["eval"]["vinyals_test"]["fewshot"]
  return m["step"], minutes, {k: (v["mean"], v["ci95"]) for k, v in
                              shots.items()}


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--val-run", action="append", required=True,
                 help="a run on vinyals_train with eval.every (its eval_log "
                 "holds val); repeat")
  p.add_argument("--test-run", action="append", default=[],
                 help="a finished run on trainval (its metrics.json); repeat")
  p.add_argument("--earlier-run", help="a run whose eval_log holds test")
  p.add_argument("--target", type=float, default=0.955)
  p.add_argument("--budget-minutes", type=float, default=15.0)
  p.add_argument("--out", default="results/protonet_time_to_accuracy.png")
  args = p.parse_args(argv)

  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, ax = plt.subplots(figsize=(7.5, 4.5))
  for run in args.val_run:
    val = curve(run, "vinyals_val/20way_1shot")
    ax.plot(*zip(*val), marker="o", ms=3,
            label=f"{os.path.basename(run)}: Vinyals val (tuning)")
    print(f"{run} (val, 20-way 1-shot): " + ", ".join(
        f"{t:.1f} min {a:.4f}" for t, a in val))
  if args.earlier_run:
    earlier = curve(args.earlier_run, "vinyals_test/20way_1shot")
    ax.plot(*zip(*earlier), marker=".", ls="--", color="grey",
            label=f"{os.path.basename(args.earlier_run)}: earlier recipe, "
            "test during training (200 episodes)")
    print(f"{args.earlier_run} (test during training): " + ", ".join(
        f"{t:.1f} min {a:.4f}" for t, a in earlier))
  for run in args.test_run:
    step, minutes, shots = final_test(run)
    mean, ci = shots["20way_1shot"]
    ax.errorbar([minutes], [mean], yerr=[ci], fmt="s", capsize=4, ms=6,
                label=f"{os.path.basename(run)}: Vinyals test, read once "
                f"(step {step})")
    print(f"{run}: step {step}, {minutes:.1f} min of training, Vinyals test "
          + ", ".join(f"{k} {m:.4f} ± {c:.4f}" for k, (m, c) in
                      sorted(shots.items())))
  ax.axhline(args.target, color="red", lw=0.8, label=f"target {args.target}")
  paper = report.PAPER_VINYALS["vinyals_test/20way_1shot"]
  ax.axhline(paper, color="black", ls=":", lw=0.8,
             label=f"Snell et al. {paper:.3f}")
  ax.axvline(args.budget_minutes, color="red", ls="--", lw=0.8)
  ax.set_ylim(0.90, 0.97)
  ax.set_xlabel("training wall time on the 2-core CPU (minutes)")
  ax.set_ylabel("20-way 1-shot accuracy")
  ax.set_title("ProtoNet: accuracy against training time")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7, loc="lower right")
  fig.tight_layout()
  os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
  fig.savefig(args.out, dpi=110)
  print(f"Wrote {args.out}")


if __name__ == "__main__":
  main()
