"""report.md and plots of one run; the comparison table over runs.

  python -m grouprep.report --runs=runs [--out=DIR] [NAMES]  # DIR/summary.md
  python -m grouprep.report --compare=curves.png RUN1 RUN2  # accuracy by step

The comparison table goes beside the runs (--out defaults to --runs), never
into results/ unless asked: results/summary.md is the study's.
"""
import collections
import json
import os
from typing import Dict, Iterable, List, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  pylint: disable=g-import-not-at-top
import numpy as np  # noqa: E402

from grouprep import logs  # noqa: E402
from grouprep import metrics  # noqa: E402

ROTATION_MARKERS = ("o", "^", "s", "D")

# (column title, path(s) in metrics.json -- the first present -- , format).
# Paths under "eval"; a leading "/" reads from the top of metrics.json.
# "dc" = the disjoint-character protocol (same-alphabet groups share no
# character or drawing); "rot" = the note's rotation groups.
KEY_METRICS = (
    ("space", "/embedding_space", "{}"),
    ("dev", "/num_devices", "{}"),
    ("ratio rot", "unseen_alphabets.distance.ratio", "{:.2f}"),
    ("ratio rot (held-out)", "heldout_characters.distance.ratio", "{:.2f}"),
    ("ratio dc", "unseen_alphabets.disjoint_characters.distance.ratio",
     "{:.2f}"),
    ("R@1 dc n=5", "unseen_alphabets.disjoint_characters.size_curve.5"
     ".recall_at_1", "{:.3f}"),
    ("R@1 dc all", "unseen_alphabets.disjoint_characters.size_curve.all"
     ".recall_at_1", "{:.3f}"),
    ("R@1 dc all (held-out)", "heldout_characters.disjoint_characters"
     ".size_curve.all.recall_at_1", "{:.3f}"),
    ("item→group", "unseen_alphabets.item_to_group_accuracy", "{:.3f}"),
    ("Thm1 m (train)", "unseen_alphabets.theorem1.margin_m", "{:.3f}"),
    ("Thm1 m (eval)", "unseen_alphabets.theorem1.margin_m_eval_groups",
     "{:.3f}"),
    ("ordered triplets", "unseen_alphabets.theorem1.ordered_triplet_fraction",
     "{:.3f}"),
    ("dist/bound", "unseen_alphabets.theorem1.mean_distance_over_bound",
     "{:.3f}"),
    ("5w1s", "unseen_alphabets.fewshot.5way_1shot.mean", "{:.3f}"),
    ("20w1s", "unseen_alphabets.fewshot.20way_1shot.mean", "{:.3f}"),
    ("20w5s", "unseen_alphabets.fewshot.20way_5shot.mean", "{:.3f}"),
    ("Lake err", ("lake_one_shot_error", "lake_one_shot_error_runs09_20"),
     "{:.3f}"),
)
# The columns of a run whose evaluation split has labels of its own (a folder
# / CSV dataset's held-out labels, or a registered source's split).
def label_metrics(split: str = "heldout_labels") -> tuple:
  return (
      ("space", "/embedding_space", "{}"),
      ("dev", "/num_devices", "{}"),
      ("ratio", f"{split}.distance.ratio", "{:.2f}"),
      ("same-label mean", f"{split}.distance.same_label_mean", "{:.4f}"),
      ("diff-label mean", f"{split}.distance.diff_label_mean", "{:.4f}"),
      ("group R@1", f"{split}.retrieval.recall_at_1", "{:.3f}"),
      ("group mAP", f"{split}.retrieval.map", "{:.3f}"),
      ("item→group", f"{split}.item_to_group_accuracy", "{:.3f}"),
      ("5w1s", f"{split}.fewshot.5way_1shot.mean", "{:.3f}"),
      ("5w5s", f"{split}.fewshot.5way_5shot.mean", "{:.3f}"),
  )


LABEL_METRICS = label_metrics()
# Shown only where it carries information: the bound is loose by design.
THM1_HOLDS = ("Thm1 holds", "unseen_alphabets.theorem1.bound_holds_fraction",
              "{:.3f}")


def get_dotted(d: Dict, dotted: str):
  """d["a"]["b"]["c"] for "a.b.c"; None where a key is absent."""
  for key in dotted.split("."):
    if not isinstance(d, dict) or key not in d:
      return None
    d = d[key]
  return d


def lookup(result: Dict, paths):
  """The first of paths present: under result["eval"], or from the top of
  result for a path that starts with "/". (value, the path found)."""
  for path in (paths if isinstance(paths, tuple) else (paths,)):
    value = (get_dotted(result, path[1:]) if path.startswith("/")
             else get_dotted(result.get("eval", {}), path))
    if value is not None:
      return value, path
  return None, None


def _fmt(value, fmt, path=None):
  if value is None:
    return "–"
  if isinstance(value, dict) and "mean" in value:
    ci = value.get("ci95")
    return fmt.format(value["mean"]) + (
        "" if ci is None else " ± " + fmt.format(ci))
  text = fmt.format(value)
  return text + (" (runs 09-20)" if path and path.endswith("runs09_20")
                 else "")


def metrics_table(rows: Sequence, extra_cols: Sequence[str] = (),
                  columns: Sequence = KEY_METRICS) -> str:
  """rows: (name, result dict with "eval" and top-level keys, extras dict)
  -> a markdown table of `columns` (KEY_METRICS, or LABEL_METRICS for a
  folder / CSV dataset)."""
  cols = list(columns)
  holds = [lookup(r, THM1_HOLDS[1])[0] for _, r, _ in rows]
  if columns is KEY_METRICS and any(h is not None and h < 1.0
                                    for h in holds):
    cols.insert(cols.index(next(c for c in cols if c[0] == "dist/bound")),
                THM1_HOLDS)
  head = ["config"] + [c for c, _, _ in cols] + list(extra_cols)
  lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
  for name, result, extra in rows:
    cells = [name]
    for _, paths, fmt in cols:
      value, path = lookup(result, paths)
      cells.append(_fmt(value, fmt, path))
    cells += [str(extra.get(c, "–")) for c in extra_cols]
    lines.append("| " + " | ".join(cells) + " |")
  return "\n".join(lines)


def untrained_row(result: Dict) -> Dict:
  """The untrained encoder's numbers, shaped like a result for metrics_table."""
  return {"eval": result["untrained"],
          "embedding_space": result.get("embedding_space")}


def evaluated_splits(ev: Dict) -> List[str]:
  """The evaluation splits of metrics.json's eval (or untrained), in the
  order evaluated (a split's entry holds its num_items)."""
  return [k for k, v in ev.items() if isinstance(v, dict) and "num_items" in v]


def headline(result: Dict) -> str:
  """One line: the note's metric on the first split it was evaluated on."""
  line = {"config": result["config"], "step": result["step"]}
  for split in evaluated_splits(result["eval"]):
    d = get_dotted(result["eval"], f"{split}.distance")
    if d:
      line[split] = d
      line["untrained_ratio"] = get_dotted(result["untrained"],
                                           f"{split}.distance.ratio")
      break
  return json.dumps(line)


def trained_stack(result: Dict) -> str:
  """One line naming what trained a run (metrics.json's trained_stack):
  'Python 3.12.1, jax 0.12.0.1, cpu (AMD EPYC, cpu-09d7978d249f)'; the
  jaxlib where it differs from jax; 'not recorded' for a run without one."""
  s = result.get("trained_stack")
  if not isinstance(s, dict):
    return "not recorded"
  words = f"Python {s.get('python', '?')}, jax {s.get('jax', '?')}"
  if s.get("jaxlib", s.get("jax")) != s.get("jax"):
    words += f", jaxlib {s['jaxlib']}"
  device = [s["cpu"], s.get("cpu_tag", "?")] if "cpu" in s else (
      [s["device_kind"]] if s.get("device_kind") not in (None, "cpu") else [])
  where = s.get("platform", "?") + (f" ({', '.join(device)})" if device
                                    else "")
  return f"{words}, {where}"


def stacks_sentence(results: Sequence[Dict]) -> str:
  """Which stacks trained these runs, and how many each: different stacks
  (JAX versions, CPUs) round differently, so a rerun matches a run bit for
  bit only on its own stack. '' for no runs."""
  return describe_stacks(stack_counts(results))


def stack_counts(results: Iterable[Dict]) -> Dict[str, int]:
  """{trained_stack: how many of these runs it trained}, most first."""
  return dict(collections.Counter(trained_stack(r)
                                  for r in results).most_common())


def describe_stacks(counts: Dict[str, int], lead: str = "Trained on") -> str:
  """stacks_sentence from stack_counts' {stack: runs}; `lead` starts it."""
  counts = collections.Counter(counts)
  runs = lambda n: f"{n} run{'s' if n != 1 else ''}"
  if not counts:
    return ""
  if len(counts) == 1:
    (stack, n), = counts.items()
    return f"{lead} one stack: {stack} ({runs(n)})."
  return (f"{lead} {len(counts)} stacks, which round differently: "
          + "; ".join(f"{stack} ({runs(n)})"
                      for stack, n in counts.most_common()) + ".")


# --------------------------------------------------------------------------
# Plots.
# --------------------------------------------------------------------------
def _save(fig, path: str) -> None:
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def pca_2d(x: np.ndarray, basis_from: np.ndarray = None) -> np.ndarray:
  """Projection on the top two principal axes of `basis_from` (default x)."""
  ref = x if basis_from is None else basis_from
  mean = ref.mean(0)
  _, _, vt = np.linalg.svd(ref - mean, full_matrices=False)
  return (x - mean) @ vt[:2].T


def plot_embeddings(path: str, split, items_per_group: int = 60,
                    seed: int = 0) -> None:
  groups, items, g_emb = split.groups, split.items, split.group_emb
  rng = np.random.default_rng(seed)
  sub = np.concatenate([
      rng.choice(groups.members(g), min(items_per_group,
                                        len(groups.members(g))), replace=False)
      for g in range(groups.num_groups)])
  p_items = pca_2d(items[sub], items[sub])
  p_groups = pca_2d(g_emb, items[sub])
  labels = np.unique(groups.group_class)
  cmap = plt.get_cmap("tab20", max(len(labels), 1))
  colour = {k: cmap(i % 20) for i, k in enumerate(labels)}
  names = split.data.label_names
  # A folder / CSV dataset's groups are its own: no rotations to mark.
  given = split.data.grouping == "given"
  markers = ("o",) if given else ROTATION_MARKERS
  fig, ax = plt.subplots(figsize=(9, 7))
  item_group = groups.item_group[sub]
  for r, marker in enumerate(markers):
    sel = groups.item_rotation[sub] == r
    ax.scatter(p_items[sel, 0], p_items[sel, 1], s=4, alpha=0.25,
               marker=marker,
               c=[colour[groups.group_class[g]] for g in item_group[sel]])
  for g in range(groups.num_groups):
    k = groups.group_class[g]
    ax.scatter(p_groups[g, 0], p_groups[g, 1], s=110,
               marker=markers[groups.group_key[g] % len(markers)],
               color=colour[k], edgecolors="black", linewidths=0.8)
  handles = [] if given else [
      plt.Line2D([], [], ls="", marker=m, color="gray",
                 label=f"rotation {90 * r}°")
      for r, m in enumerate(ROTATION_MARKERS)]
  handles += [plt.Line2D([], [], ls="", marker="o", color=colour[k],
                         label=str(names[k])[:22]) for k in labels]
  ax.legend(handles=handles, fontsize=6, ncol=2, loc="center left",
            bbox_to_anchor=(1.0, 0.5))
  ax.set_title("PCA of item (small) and group (large, outlined) embeddings,\n"
               + ("held-out labels; colour = label" if given else
                  "unseen alphabets; colour = alphabet, marker = rotation"))
  _save(fig, path)


def plot_distance_histograms(path: str, split) -> None:
  g_emb, labels = split.group_emb, split.groups.group_class
  given = split.data.grouping == "given"
  label, where = (("label", "held-out labels") if given
                  else ("alphabet", "unseen alphabets"))
  dist = metrics.pairwise_distances(g_emb)
  i, j = np.triu_indices(len(labels), 1)
  same = labels[i] == labels[j]
  fig, ax = plt.subplots(figsize=(7, 4))
  bins = np.linspace(0, dist[i, j].max() * 1.02, 40)
  ax.hist(dist[i, j][~same], bins=bins, alpha=0.6, density=True,
          label=f"different {label} ({(~same).sum()} pairs)")
  ax.hist(dist[i, j][same], bins=bins, alpha=0.6, density=True,
          label=f"same {label} ({same.sum()} pairs)")
  ax.set_xlabel("||f(G) - f(G')||")
  ax.set_ylabel("density")
  ax.set_title(f"Distances between group embeddings, {where}")
  ax.legend()
  _save(fig, path)


NOT_CURVES = ("step", "steps_per_s", "wall_s", "num_devices")


def plot_training_curves(path: str, workdir: str) -> List[str]:
  """One panel per logged training metric: loss, gradient norm and whatever a
  method adds (SMoG's collapse monitors: groups used, assignment entropy).
  Returns the metrics plotted ([] and no file when there is no log)."""
  log = logs.read(workdir)
  if not log:
    return []
  steps = sorted(log)
  keys = sorted({k for s in steps for k in log[s] if k not in NOT_CURVES},
                key=lambda k: (k not in ("loss", "grad_norm"), k))
  cols = min(len(keys), 3)
  rows = -(-len(keys) // cols)
  fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows),
                           squeeze=False)
  for ax, key in zip(axes.flat, keys):
    have = [s for s in steps if key in log[s]]
    ax.plot(have, [log[s][key] for s in have])
    ax.set_title(key.replace("_", " "))
    ax.set_xlabel("step")
  for ax in list(axes.flat)[len(keys):]:
    ax.axis("off")
  _save(fig, path)
  return keys


PAPER_VINYALS = {"vinyals_test/20way_1shot": 0.960, "vinyals_test/5way_1shot": 0.988}


def plot_accuracy_vs_time(path: str, workdir: str) -> bool:
  """Few-shot accuracy against training wall time (eval_log.jsonl)."""
  log = logs.read(workdir, "eval")  # few-shot during training
  rows = [log[s] for s in sorted(log)]
  if len(rows) < 2:
    return False
  keys = [k for k in rows[0] if k not in ("step", "wall_s")]
  minutes = [r["wall_s"] / 60 for r in rows]
  fig, ax = plt.subplots(figsize=(7, 4))
  for k in keys:
    line, = ax.plot(minutes, [r[k] for r in rows], marker=".", label=k)
    if k in PAPER_VINYALS:
      ax.axhline(PAPER_VINYALS[k], color=line.get_color(), ls="--", lw=0.8)
  ax.set_xlabel("training wall time on this machine (minutes)")
  ax.set_ylabel("accuracy")
  ax.set_title("Few-shot accuracy during training"
               + (" (dashed: Snell et al.)" if any(k in PAPER_VINYALS
                                                   for k in keys) else ""))
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  _save(fig, path)
  return True


def plot_runs_by_step(path: str, workdirs: Sequence[str],
                      keys: Sequence[str] = None) -> bool:
  """Few-shot accuracy of several runs against the training step (their
  eval_log.jsonl), one colour per run, one line style per metric: recipes
  compared at equal work even when their wall clocks are not comparable.
  keys: default the 20-way and 5-way 1-shot accuracy of whichever split the
  logs hold (Vinyals val for recipes on vinyals_train)."""
  runs = {os.path.basename(os.path.normpath(d)): logs.read(d, "eval")
          for d in workdirs}
  runs = {name: log for name, log in runs.items() if len(log) >= 2}
  if not runs:
    return False
  if keys is None:
    logged = set().union(*(row for log in runs.values()
                           for row in log.values()))
    keys = sorted((k for k in logged if k.endswith(("20way_1shot",
                                                    "5way_1shot"))),
                  key=lambda k: ("5way" in k, k))
  fig, ax = plt.subplots(figsize=(7, 4))
  for color, (name, log) in zip(plt.rcParams["axes.prop_cycle"].by_key()["color"],
                                runs.items()):
    steps = sorted(log)
    for key, style in zip(keys, ("-", ":", "-.", "--")):
      have = [s for s in steps if key in log[s]]
      ax.plot(have, [log[s][key] for s in have], style, color=color,
              marker=".", label=f"{name}: {key.split('/')[-1]}")
  paper = [k for k in keys if k in PAPER_VINYALS]
  for key in paper:
    ax.axhline(PAPER_VINYALS[key], color="grey", ls="--", lw=0.8)
  ax.set_xlabel("training step")
  ax.set_ylabel("accuracy")
  split = keys[0].split("/")[0] if keys else ""
  ax.set_title(f"Few-shot accuracy during training, {split}"
               + (" (grey: Snell et al.)" if paper else ""))
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  _save(fig, path)
  return True


# --------------------------------------------------------------------------
# Reports.
# --------------------------------------------------------------------------
def train_seconds(workdir: str):
  log = logs.read(workdir)
  return round(log[max(log)].get("wall_s", 0.0)) if log else None


def plot_size_curve(path: str, result: Dict) -> bool:
  """Recall@1 and the note's ratio of the disjoint-character protocol against
  drawings per group, trained vs untrained encoder, per split (mean and 95%
  t-interval over resamples)."""
  names = [s for s in evaluated_splits(result["eval"])
           if get_dotted(result["eval"],
                         f"{s}.disjoint_characters.size_curve")]
  if not names:
    return False
  fig, axes = plt.subplots(len(names), 2, figsize=(10, 3.6 * len(names)),
                           squeeze=False)
  for row, split in enumerate(names):
    for col, metric in enumerate(("recall_at_1", "ratio")):
      ax = axes[row, col]
      for label, ev, style in (("trained", result["eval"], "-o"),
                               ("untrained", result["untrained"], "--s")):
        curve = get_dotted(ev, f"{split}.disjoint_characters.size_curve")
        if not curve:
          continue
        keys = list(curve)
        mean = [curve[k][metric]["mean"] for k in keys]
        ci = [curve[k][metric]["ci95"] for k in keys]
        ax.errorbar(range(len(keys)), mean, yerr=ci, fmt=style, capsize=3,
                    label=label)
        ax.set_xticks(range(len(keys)), keys)
      ax.set_xlabel("drawings per group")
      ax.set_ylabel("group recall@1" if metric == "recall_at_1"
                    else "ratio diff/same")
      ax.set_title(f"{split}, disjoint characters")
      ax.grid(alpha=0.3)
      ax.legend()
  fig.suptitle(f"{result['config']}: groups of disjoint character sets "
               f"({result.get('embedding_space', '?')} space)")
  _save(fig, path)
  return True


def _split_lines(name: str, ev: Dict) -> List[str]:
  lines = ["", f"## {name}", "", "| metric | value |", "|---|---|"]
  groups = ("the dataset's groups" if "num_labels" in ev
            else "rotation groups")
  for k, v in ev.get("distance", {}).items():
    lines.append(f"| distance.{k} ({groups}) | {v:.4f} |")
  for k, v in ev.get("retrieval", {}).items():
    lines.append(f"| retrieval.{k} ({groups}) | {v:.4f} |")
  if "item_to_group_accuracy" in ev:
    lines.append(f"| item_to_group_accuracy | "
                 f"{ev['item_to_group_accuracy']:.4f} |")
  if "item_to_group_skipped" in ev:
    lines.append(f"| item_to_group_accuracy | skipped: "
                 f"{ev['item_to_group_skipped']} |")
  for k, v in ev.get("theorem1", {}).items():
    lines.append(f"| theorem1.{k} | "
                 f"{v if isinstance(v, str) else format(v, '.4g')} |")
  dc = ev.get("disjoint_characters")
  if dc:
    for k, v in dc["distance"].items():
      lines.append(f"| disjoint_characters.distance.{k} | {v:.4f} |")
    for k, v in dc["retrieval"].items():
      lines.append(f"| disjoint_characters.retrieval.{k} | {v:.4f} |")
    for n, cell in dc["size_curve"].items():
      lines.append(
          f"| disjoint_characters.size_curve[{n}] recall@1 / ratio | "
          f"{_fmt(cell['recall_at_1'], '{:.3f}')} / "
          f"{_fmt(cell['ratio'], '{:.3f}')} |")
  for k, v in ev.get("fewshot", {}).items():
    lines.append(f"| fewshot.{k} | {v['mean']:.4f} ± {v['ci95']:.4f} |")
  for k, why in ev.get("fewshot_skipped", {}).items():
    lines.append(f"| fewshot.{k} | skipped: {why} |")
  return lines


def write_run_report(workdir: str, result: Dict, split) -> None:
  """split: the SplitView of the training split's `plotted` split (the
  unseen alphabets; a folder / CSV dataset's held-out labels), or None
  where the run did not evaluate it (a recipe run reads val alone): no
  embedding or distance plots then."""
  if split is not None:
    plot_embeddings(os.path.join(workdir, "embeddings.png"), split)
    plot_distance_histograms(os.path.join(workdir, "distances.png"), split)
  has_size_curve = plot_size_curve(os.path.join(workdir, "size_curve.png"),
                                   result)
  has_curves = plot_training_curves(
      os.path.join(workdir, "training_curves.png"), workdir)
  has_time_curve = plot_accuracy_vs_time(
      os.path.join(workdir, "accuracy_vs_time.png"), workdir)
  lines = [f"# {result['config']} at step {result['step']}", "",
           f"Embedding space: {result.get('embedding_space')} (every metric "
           f"is taken there); trained on {result.get('num_devices')} "
           f"device(s).", ""]
  labelled = [s for s in evaluated_splits(result["eval"])
              if "num_labels" in result["eval"][s]]
  columns = label_metrics(labelled[0]) if labelled else KEY_METRICS
  table_rows = [(result["config"], result, {}),
                ("untrained encoder", untrained_row(result), {})]
  # A recipe run that read only another split (vinyals_val) has no cell
  # here but its space and device count: its numbers are in that split's
  # section below, so say so instead of a table of dashes.
  has_cells = any(lookup(r, paths)[0] is not None
                  for _, r, _ in table_rows for _, paths, _ in columns[2:])
  skipped = result.get("skipped_evaluators", {})
  if not has_cells:
    lines.append("Evaluated on " + (", ".join(evaluated_splits(
        result["eval"])) or "no split") + " alone: its numbers are in the "
        "section(s) below.")
  elif labelled:
    lines += [metrics_table(table_rows, columns=columns), "",
              f"On {labelled[0]}, the held-out labels in their own groups: "
              "ratio = mean different-label / mean same-label "
              "distance between group embeddings; group retrieval (same "
              "label = relevant); item -> group (nearest group embedding, "
              "its own group re-pooled without it); few-shot over labels "
              "with centroid prototypes."
              + (" Skipped: " + "; ".join(f"{k} ({v})" for k, v in
                                          skipped.items()) + "."
                 if skipped else "")]
  else:
    lines += [metrics_table(table_rows, columns=columns), "",
              "ratio = mean different-alphabet / mean same-alphabet "
              "distance between group embeddings. rot: the note's groups "
              "(an alphabet's rotated copies, which share their drawings); "
              "dc: groups of disjoint character sets (upright drawings, no "
              "shared character or drawing), mean ± 95% t-interval over "
              "resamples. Theorem 1: m measured on the training groups, the "
              "bound tested on evaluation groups. Few-shot: centroid "
              "prototypes over characters, mean of the episodes (95% CI "
              "below)."]
  raw = result.get("lake_one_shot_error_raw_pixels",
                   result.get("lake_one_shot_error_runs09_20_raw_pixels"))
  lake, lake_path = lookup(result, ("lake_one_shot_error",
                                     "lake_one_shot_error_runs09_20"))
  if lake is not None:
    lines.append(f"Lake's one-shot runs{' 09-20' if lake_path.endswith('20') else ''}"
                 f": error {lake:.3f}" + (
                     f" (raw-pixel nearest neighbour: {raw:.3f})."
                     if raw is not None else "."))
  if result.get("trained_on"):
    lines.append(f"Left out as trained on: {json.dumps(result['trained_on'])}")
  margin = result["eval"].get("theorem1_train_groups")
  if margin:
    lines.append(f"Theorem 1's m on the training groups: "
                 f"{margin['margin_m']:.4g} ({margin['num_groups']} groups, "
                 f"{margin['num_items']} items).")
  for name in evaluated_splits(result["eval"]):
    lines += _split_lines(name, result["eval"][name])
  if split is not None:
    lines += ["", "![embeddings](embeddings.png)", "",
              "![distances](distances.png)"]
  if has_size_curve:
    lines += ["", "![size curve](size_curve.png)"]
  if has_curves:
    lines += ["", "![training curves](training_curves.png)"]
  if has_time_curve:
    lines += ["", "![accuracy vs time](accuracy_vs_time.png)"]
  with open(os.path.join(workdir, "report.md"), "w") as f:
    f.write("\n".join(lines) + "\n")


def write_summary(run_dirs: Sequence[str], out_dir: str) -> str:
  """out_dir/summary.md: one row per run, plus the untrained encoder; each
  run's metrics.json copied beside it as RUN_metrics.json, and the config
  its newest checkpoint holds as RUN_config.json (RUN: its folder's
  name)."""
  import shutil  # pylint: disable=g-import-not-at-top
  from grouprep import checkpoints  # pylint: disable=g-import-not-at-top
  os.makedirs(out_dir, exist_ok=True)
  rows, untrained, plots, vinyals, notes = [], {}, [], [], []
  # Raw pixels on Lake's runs: all 20 from a run not trained on the Vinyals
  # split, runs 09-20 from one that was (the runs it may be read on).
  raw = {}
  for d in run_dirs:
    path = os.path.join(d, "metrics.json")
    if not os.path.exists(path):
      continue
    res = json.load(open(path))
    # The numbers themselves beside the table, and the config that trained
    # them (its newest checkpoint's), for what reads them later.
    run = os.path.basename(os.path.normpath(d))
    shutil.copy(path, os.path.join(out_dir, f"{run}_metrics.json"))
    saved = checkpoints.saved_config(d)
    if saved is not None:
      with open(os.path.join(out_dir, f"{run}_config.json"), "w") as f:
        json.dump(saved[1], f, indent=1, sort_keys=True)
    extra = {"steps": res["step"], "train s": train_seconds(d),
             "eval s": res.get("eval_seconds")}
    rows.append((res["config"], res, extra))
    for key, runs in (("lake_one_shot_error_raw_pixels", "20 runs"),
                      ("lake_one_shot_error_runs09_20_raw_pixels",
                       "runs 09-20")):
      if res.get(key) is not None:
        raw.setdefault(runs, res[key])
    pool, model = res.get("pooling", "?"), res.get("model", "conv4")
    space = res.get("embedding_space", "?")
    # One row per distinct baseline: the same initial encoder gives other
    # numbers where groups are pooled otherwise (unit(pool(raw)) against
    # pool(unit)) or m is taken on other training groups.
    key = (model, pool, space) + tuple(
        json.dumps(lookup(untrained_row(res), paths)[0], sort_keys=True)
        for _, paths, _ in KEY_METRICS)
    if key not in untrained:
      untrained[key] = (f"untrained {model}, {pool} groups", [],
                        untrained_row(res))
    untrained[key][1].append(res["config"])
    if "vinyals_test" in res["eval"]:
      vinyals.append((res["config"], res["eval"]["vinyals_test"], extra))
      # Its floor: the same encoder at initialisation, on the same episodes.
      if "vinyals_test" in res.get("untrained", {}):
        vinyals.append((f"untrained {model} (as for {res['config']})",
                        res["untrained"]["vinyals_test"], {}))
    log = logs.read(d)
    monitors = {k: v for k, v in (log[max(log)] if log else {}).items()
                if k.startswith("groups_used") or k.endswith("entropy")
                or k == "latent_groups_used"}
    if monitors:
      notes.append(f"{res['config']} at step {max(log)}: " + ", ".join(
          f"{k} {v:.4g}" for k, v in monitors.items()))
    # The curves come from the logs alone: redraw them with this code.
    plot_training_curves(os.path.join(d, "training_curves.png"), d)
    plot_accuracy_vs_time(os.path.join(d, "accuracy_vs_time.png"), d)
    for plot in ("embeddings.png", "distances.png", "size_curve.png",
                 "training_curves.png", "accuracy_vs_time.png"):
      if os.path.exists(os.path.join(d, plot)):
        name = f"{res['config']}_{plot}"
        shutil.copy(os.path.join(d, plot), os.path.join(out_dir, name))
        plots.append(name)
  rows.extend((f"{label} (as for {', '.join(names)})", row, {})
              for label, names, row in untrained.values())
  text = ["# grouprep: comparison of configurations", "",
          metrics_table(rows, ("steps", "train s", "eval s")), ""]
  if raw:
    text.append("Raw-pixel nearest neighbour on Lake's " + "; on ".join(
        f"{runs}: error {err:.3f}" for runs, err in raw.items()) + ".")
  text += ["", "Columns: unseen alphabets unless marked, each in the space its "
           "method trains (space); see each run's report.md for both splits "
           "and the 95% CIs. rot = the note's rotation groups (an alphabet's "
           "rotated copies share their drawings); dc = groups of disjoint "
           "character sets (upright drawings; same-alphabet groups share no "
           "character or drawing), mean ± 95% t-interval over 20 resamples "
           "of the sets and drawings; n = drawings per group. Theorem 1: m "
           "on the training groups and on the evaluation groups; ordered "
           "triplets = fraction of sampled evaluation triplets with "
           "d(a, p) < d(a, n). Encoders trained on the Vinyals split "
           "(protonet) are evaluated on the 12 evaluation alphabets they "
           "never saw and Lake's runs 09-20 only.", ""]
  if vinyals:
    text += ["## Vinyals test split (1,692 (character, rotation) classes)", "",
             "| config | 5w1s | 5w5s | 20w1s | 20w5s | steps | train s |",
             "|---|---|---|---|---|---|---|"]
    for name, ev, extra in vinyals:
      f = ev["fewshot"]
      text.append(f"| {name} | " + " | ".join(
          f"{f[k]['mean']:.4f} ± {f[k]['ci95']:.4f}" for k in
          ("5way_1shot", "5way_5shot", "20way_1shot", "20way_5shot")) +
          f" | {extra.get('steps', '–')} | {extra.get('train s', '–')} |")
    text += ["", "Snell et al. (2017): 98.8 / 99.7 / 96.0 / 98.9 %.", ""]
  if notes:
    text += ["Collapse monitors (last training log line): " + "; ".join(notes)
             + ".", ""]
  text += [f"![{p}]({p})" for p in plots]
  path = os.path.join(out_dir, "summary.md")
  with open(path, "w") as f:
    f.write("\n".join(text) + "\n")
  return path


def main(argv=None) -> None:
  import argparse  # pylint: disable=g-import-not-at-top
  p = argparse.ArgumentParser(description=__doc__)
  p.add_argument("--runs", default="runs")
  p.add_argument("--out", default=None,
                 help="where summary.md and the plots go (default: --runs)")
  p.add_argument("names", nargs="*", help="run names (default: all in --runs)")
  p.add_argument("--compare", metavar="PNG",
                 help="instead, plot the named runs' few-shot accuracy "
                      "against the step into PNG")
  args = p.parse_args(argv)
  if args.compare:
    dirs = [os.path.join(args.runs, n) for n in args.names]
    missing = [d for d in dirs if not os.path.isdir(d)]
    if missing or not dirs:
      raise SystemExit(f"No run folder {missing or args.runs + '/NAME'}: "
                       "name runs as folders under --runs.")
    if not plot_runs_by_step(args.compare, dirs):
      raise SystemExit(
          f"None of {dirs} has two rows in eval_log.jsonl: a run logs them "
          "only when trained with --config.eval.every > 0.")
    print(args.compare)
    return
  names = args.names or sorted(os.listdir(args.runs))
  print(write_summary([os.path.join(args.runs, n) for n in names],
                      args.out or args.runs))


if __name__ == "__main__":
  main()
