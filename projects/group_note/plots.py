"""The study's plots: convergence curves (a line per configuration, band =
sd over seeds), every configuration's seeds against its untrained encoder
(a panel per headline metric) and the paired differences between
configurations with their intervals and verdicts."""
import os
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  pylint: disable=g-import-not-at-top
from matplotlib import ticker  # noqa: E402
import numpy as np  # noqa: E402

from projects.group_note.comparisons import (  # noqa: E402
    CEILING_METRIC, CONFIGS_FAMILY, CONVERGENCE_METRICS, HEADLINE)
from projects.group_note.tables import (  # noqa: E402
    Q_LEVEL, ceiling_floor, config_points)


def plot_convergence(curves, out_dir: str) -> List[str]:
  """One PNG per metric: mean over seeds per configuration, band = sd."""
  written = []
  for metric, title in CONVERGENCE_METRICS:
    by_name = curves.get(metric, {})
    if not by_name:
      continue
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, by_step in sorted(by_name.items()):
      steps = sorted(by_step)
      values = [list(by_step[s].values()) for s in steps]
      mean = np.array([np.mean(v) for v in values])
      sd = np.array([np.std(v, ddof=1) if len(v) > 1 else 0.0
                     for v in values])
      n = min(len(v) for v in values)
      line, = ax.plot(steps, mean, marker="o", ms=3, label=f"{name} (n={n})")
      ax.fill_between(steps, mean - sd, mean + sd, color=line.get_color(),
                      alpha=0.2)
    ax.set_xlabel("training step")
    ax.set_ylabel(title)
    ax.set_title(f"{title}, held-out characters (validation)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    name = "convergence_" + metric.split("/")[-1] + ".png"
    fig.savefig(os.path.join(out_dir, name), dpi=110)
    plt.close(fig)
    written.append(name)
  return written


def plot_configs(results: Dict[str, Dict[int, Dict]], names: Sequence[str],
                 out_dir: str) -> List[str]:
  """study_configs.png: a panel per headline metric, a row per
  configuration; each seed a dot, mean ± sd a bar (n >= 2), the same
  seeds' untrained encoder (mean) a hollow diamond: the baseline training
  must beat. n per panel, from config_points."""
  present = [n for n in names if n in results]
  if not present:
    return []
  cols = 3
  rows = -(-len(HEADLINE) // cols)
  fig, axes = plt.subplots(rows, cols, sharey=True, squeeze=False,
                           figsize=(4.2 * cols, 0.9 + 0.3 * len(present) * rows))
  ys = np.arange(len(present))[::-1]
  near = ceiling_floor(results) is not None
  for ax, (label, path, lower_better) in zip(axes.flat, HEADLINE):
    points = config_points({n: results[n] for n in present}, path)
    for y, name in zip(ys, present):
      if name not in points:
        continue
      p = points[name]
      ax.plot(np.mean(p["untrained"]), y, "D", mfc="none", color="0.5", ms=6)
      ax.plot(p["values"], [y] * len(p["values"]), "o", color="C0", ms=3,
              alpha=0.6)
      if p["sd"] is not None:
        ax.errorbar(p["mean"], y, xerr=p["sd"], fmt="|", color="C0", ms=12,
                    capsize=3)
      ax.annotate(f"n={len(p['values'])}", (1.0, y),
                  xycoords=("axes fraction", "data"), xytext=(2, 0),
                  textcoords="offset points", va="center", fontsize=6)
    ax.set_title(label + (" (lower is better)" if lower_better else "")
                 + ("\n(near ceiling for centroid groups)"
                    if label == CEILING_METRIC and near else ""), fontsize=9)
    ax.grid(alpha=0.3, axis="x")
  for ax in axes.flat[len(HEADLINE):]:
    ax.axis("off")
  for ax in axes[:, 0]:
    ax.set_yticks(ys)
    ax.set_yticklabels(present, fontsize=8)
  fig.suptitle("The study: each seed (dot), mean ± sd (bar), the same seeds' "
               "untrained encoder (hollow diamond)", fontsize=10)
  fig.tight_layout()
  fig.savefig(os.path.join(out_dir, "study_configs.png"), dpi=110)
  plt.close(fig)
  return ["study_configs.png"]


# The paired plot's panels: the unseen alphabets' discriminating metrics and
# the note's own ratio (all drawings is near its ceiling for centroid groups;
# the validation metrics choose, they are not the result).
PAIRED_METRICS = ("unseen dc recall@1, 5 drawings", "unseen 20-way 1-shot",
                  "Lake error", "unseen ratio (rotation)")


def paired_points(rows: Sequence[Dict], family: str = CONFIGS_FAMILY
                  ) -> Tuple[List[Tuple[str, str, str]], Dict[str, Dict]]:
  """What plot_paired draws: (the comparisons (question, a, b) of one
  family in the table's order, {metric of PAIRED_METRICS: {comparison:
  (mean, low, high, verdict)}}), verdict "measured" (n >= MIN_SEEDS and
  q < Q_LEVEL), "not measured" or "untested" (too few seeds); rows: the
  study's paired rows (tables.study_rows)."""
  mine = [r for r in rows if r.get("family") == family
          and r["metric"] in PAIRED_METRICS]
  pairs = list(dict.fromkeys((r["question"], r["a"], r["b"]) for r in mine))
  points = {}
  for r in mine:
    d = r["diff"]
    verdict = ("untested" if not d["testable"] else
               "measured" if d["measured"] else "not measured")
    points.setdefault(r["metric"], {})[(r["question"], r["a"], r["b"])] = (
        d["mean"], d["low"], d["high"], verdict)
  return pairs, {m: points[m] for m in PAIRED_METRICS if m in points}


def plot_paired(rows: Sequence[Dict], out_dir: str,
                family: str = CONFIGS_FAMILY) -> List[str]:
  """study_paired.png: the paired table's comparisons of one family (by
  default those between configurations), a panel per metric of
  PAIRED_METRICS, a row per comparison a − b (paired_points): its mean
  difference over the paired seeds and 95% interval, filled red where
  measured, hollow where not, a grey x where too few seeds to test. Each
  question's rows share a band; the question is named at the right."""
  pairs, points = paired_points(rows, family)
  if not pairs:
    return []
  y_of = {p: y for p, y in zip(pairs, range(len(pairs))[::-1])}
  fig, axes = plt.subplots(1, len(points), sharey=True, squeeze=False,
                           figsize=(3.1 * len(points) + 2.6,
                                    1.4 + 0.24 * len(pairs)))
  lower_better = {label: lower for label, _, lower in HEADLINE}
  questions = list(dict.fromkeys(q for q, _, _ in pairs))
  for ax, (metric, by_pair) in zip(axes[0], points.items()):
    for i, question in enumerate(questions):
      ys = [y_of[p] for p in pairs if p[0] == question]
      if i % 2:
        ax.axhspan(min(ys) - 0.5, max(ys) + 0.5, color="0.93", zorder=0)
    ax.axvline(0.0, color="0.4", lw=0.8)
    for pair, (mean, low, high, verdict) in by_pair.items():
      y = y_of[pair]
      if verdict == "untested":
        ax.plot(mean, y, "x", color="0.5", ms=5)
        continue
      color = "C3" if verdict == "measured" else "C0"
      ax.plot([low, high], [y, y], "-", color=color, lw=1.5)
      ax.plot(mean, y, "o", color=color, ms=5,
              mfc=color if verdict == "measured" else "white")
    ax.set_title(metric + ("\n(lower is better)" if lower_better.get(metric)
                           else ""), fontsize=9)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(alpha=0.3, axis="x")
  axes[0, 0].set_yticks([y_of[p] for p in pairs])
  axes[0, 0].set_yticklabels([f"{a} − {b}" for _, a, b in pairs], fontsize=7)
  axes[0, 0].set_ylim(-0.7, len(pairs) - 0.3)
  for question in questions:
    ys = [y_of[p] for p in pairs if p[0] == question]
    axes[0, -1].annotate(question, (1.02, np.mean(ys)),
                         xycoords=("axes fraction", "data"), va="center",
                         fontsize=7, style="italic")
  fig.suptitle(f"Paired differences a − b ({family}): mean and 95% interval "
               f"over seeds; filled red = measured (q < {Q_LEVEL}), hollow = "
               "not measured, grey x = too few seeds", fontsize=9)
  fig.tight_layout()
  fig.savefig(os.path.join(out_dir, "study_paired.png"), dpi=110)
  plt.close(fig)
  return ["study_paired.png"]


def tuning_lines(scored, field: str = "train.learning_rate"
                 ) -> Dict[str, Dict[str, List]]:
  """{label of the other fields' values: {"done": [(x, score)], "diverged":
  [x]}} of one configuration's sweep, x its `field`'s value, in grid order;
  unfinished points (score None) are left out. scored: tune's [(setting,
  score: None unfinished, NaN diverged)]."""
  out = {}
  for setting, s in scored:
    label = ", ".join(f"{k.split('.')[-1]} {v:g}"
                      for k, v in setting.items() if k != field)
    line = out.setdefault(label, {"done": [], "diverged": []})
    if s is not None and np.isnan(s):
      line["diverged"].append(setting[field])
    elif s is not None:
      line["done"].append((setting[field], s))
  return out


def plot_tuning(sweeps: Dict[str, tuple], score_label: str, path: str,
                floors: Optional[Dict[str, Optional[float]]] = None
                ) -> List[str]:
  """The tuning sweep at a glance (results/tuning/scores.png): a panel per
  configuration with a finished point, its validation score against the
  learning rate (log scale), a line per value of the other fields of its
  grid (the method's key parameter: `tuning_lines`); the chosen point
  ringed, a diverged one an x on the panels' lowest score, and the
  untrained encoder's score (floors[name], the same split and evaluator)
  dashed. sweeps: {name: (scored, chosen)}, tune.write_outputs'
  [(setting, score)] and the chosen index."""
  floors = floors or {}
  lr = "train.learning_rate"
  lines = {n: tuning_lines(scored, lr) for n, (scored, _) in sweeps.items()}
  names = [n for n in sweeps
           if any(l["done"] or l["diverged"] for l in lines[n].values())]
  if not names:
    return []
  cols = min(5, len(names))
  rows = -(-len(names) // cols)
  fig, axes = plt.subplots(rows, cols, sharey=True, squeeze=False,
                           figsize=(2.6 * cols, 2.2 * rows + 0.6))
  finite = [s for n in names for l in lines[n].values() for _, s in l["done"]]
  floor = min(finite) if finite else 0.0
  for ax, name in zip(axes.flat, names):
    scored, chosen = sweeps[name]
    for j, (label, line) in enumerate(lines[name].items()):
      if line["done"]:
        ax.plot(*zip(*line["done"]), "o-", ms=3, color=f"C{j}",
                label=label or None)
      if line["diverged"]:
        ax.plot(line["diverged"], [floor] * len(line["diverged"]), "x",
                color=f"C{j}", ms=7)
    if floors.get(name) is not None:
      ax.axhline(floors[name], ls="--", lw=1, color="0.45",
                 label="untrained")
    if chosen is not None:
      setting, s = scored[chosen]
      ax.plot(setting[lr], s, "o", mfc="none", mec="k", ms=10, mew=1.2)
    ax.set_xscale("log")
    rates = sorted({setting[lr] for setting, _ in scored})
    ax.set_xticks(rates, [f"{r:g}" for r in rates])
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_title(name, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # a diverged-only line has none
      ax.legend(fontsize=6)
  for ax in axes.flat[len(names):]:
    ax.axis("off")
  fig.supxlabel("learning rate", fontsize=8)
  fig.supylabel(score_label + " (validation)", fontsize=8)
  fig.suptitle("Tuning on validation, one seed: the chosen setting ringed, "
               "a diverged one an x"
               + (", the untrained encoder dashed" if floors else ""),
               fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)
  return [os.path.basename(path)]
