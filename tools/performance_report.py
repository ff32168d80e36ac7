"""The CPU performance measurements as Markdown, written into
docs/performance.md between its `<!-- cpu-performance -->` markers from
results/performance/cpu.jsonl (the lines `python -m grouprep.benchmark
--out=results/performance/cpu.jsonl` appends; the last line of each kind
counts), so the page never holds a number the benchmark did not write.

  python tools/performance_report.py [--lines results/performance/cpu.jsonl] \
      [--doc docs/performance.md] [--check]

--check exits 1 when the page's block differs from what the lines give (the
test suite runs it).
"""
import argparse
import json
import os
import sys

import generated_block  # tools/, beside this file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _machine(line: dict) -> str:
  return (f"{line.get('cpu', line.get('device', '?'))}, {line.get('cores')} "
          f"cores, {line.get('isa')}")


def render(lines: list) -> str:
  """The block's Markdown from the benchmark's JSON lines."""
  last, compares = {}, {}
  for line in lines:
    last[line["what"]] = line
    if line["what"] == "compare":  # the last line of each workload
      compares[tuple(line[k] for k in ("loss", "pooling", "classes", "items",
                                       "image_size"))] = line
  out = []
  lv = last.get("loop_vs_step")
  if lv:
    out += [f"**The training loop against the bare step** "
            f"(`python -m grouprep.benchmark --what=loop_vs_step --config "
            f"{lv['config']} --steps {lv['loop_steps']} --rounds "
            f"{lv['rounds']}`; {_machine(lv)}): batch C x V x M = "
            f"{' x '.join(map(str, lv['batch_shape']))} at "
            f"{lv['image_size']} px on {lv['devices']} devices, images on "
            f"the devices: {'yes' if lv['images_on_device'] else 'no'}.", "",
            "| | images/s (median of rounds) |", "|---|---|",
            f"| the loop (sampling, dispatch, logging, checkpoints) | "
            f"{lv['loop_images_per_s']:,.0f} |",
            f"| the step alone (inputs already on the devices) | "
            f"{lv['step_images_per_s']:,.0f} |",
            f"| loop / step | **{lv['loop_over_step']:.3f}** |", ""]
  ev = last.get("eval")
  if ev or lv:
    sys.path.insert(0, ROOT)
    from grouprep import benchmark  # pylint: disable=g-import-not-at-top
    out += [f"A Conv-4 forward pass at 28 px is "
            f"{benchmark.conv4_train_flops(28) / 3 / 1e6:.1f} MFLOP "
            f"(`benchmark.conv4_train_flops(28) / 3`); a training step's "
            f"image is 3 times that.", ""]
  if ev:
    s = ev["eval_seconds"]
    load = ev.get("load_average_1min") or []
    out += [f"**Evaluation time** of {ev['config']}'s {ev['step']}-step "
            f"checkpoint (`python -m grouprep.benchmark --what=eval --config "
            f"{ev['config']} --workdir=... --rounds {ev['rounds']}`; "
            f"{_machine(ev)}; `eval_seconds` of metrics.json, medians"
            + (f"; 1-minute load average {min(load):.1f}–{max(load):.1f} "
               f"during the runs" if load else "") + "):", "",
            "| grouprep cache | eval_seconds |", "|---|---|",
            f"| fresh (TFDS decode, every program compiled, both encoders "
            f"evaluated) | {s['fresh']:.1f} |",
            f"| the untrained encoder's evaluation reused, programs compiled "
            f"again | {s['untrained_reused']:.1f} |",
            f"| warm (reused and compiled) | {s['warm']:.1f} |", ""]
  if compares:
    some = next(iter(compares.values()))
    out += [f"**grouprep against the PyTorch peer** (SPEC §6: "
            f"`../shared/bench/torch_peer.py`, the same Conv-4 workload in "
            f"PyTorch; `python -m grouprep.benchmark --what=compare "
            f"--torch-python PYTHON_WITH_TORCH [--loss L --pooling P "
            f"--classes C --image-size S]`, the two programs alternating, "
            f"`--rounds` runs of each, medians of `--steps` timed steps; "
            f"{_machine(some)}):", "",
            "| workload (C x 2 x M images) | grouprep img/s | PyTorch img/s "
            "| grouprep / PyTorch | stacks | rounds | 1-minute load (its own "
            "included) |",
            "|---|---|---|---|---|---|---|"]
    for (loss, pooling, c, m, size), line in compares.items():
      load = line.get("load_average_1min") or []
      out.append(
          f"| {loss} + {pooling}, C={c}, M={m}, {size} x {size} | "
          f"{line['grouprep_images_per_s']:,.1f} | "
          f"{line['torch_images_per_s']:,.1f} | **{line['ratio']:.3f}** | "
          f"jax {line.get('jax')}, torch {line.get('torch')} | "
          f"{line.get('rounds', '?')} | "
          + (f"{min(load):.1f}–{max(load):.1f}" if load else "–") + " |")
    out.append("")
  return "\n".join(out)


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--lines", default=os.path.join(ROOT, "results",
                                                 "performance", "cpu.jsonl"))
  p.add_argument("--doc", default=os.path.join(ROOT, "docs",
                                               "performance.md"))
  p.add_argument("--check", action="store_true")
  args = p.parse_args(argv)
  with open(args.lines) as f:
    lines = [json.loads(l) for l in f if l.strip()]
  block = render(lines)
  return generated_block.write(args.doc, "cpu-performance", block, args.check,
                               args.lines, "tools/performance_report.py")

if __name__ == "__main__":
  sys.exit(main())
