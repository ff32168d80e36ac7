"""The README's main job, measured where it runs: its command in a fresh
workdir with a fresh grouprep cache (as on a fresh machine: TFDS decoded,
every program compiled, the untrained encoder evaluated), its times and key
numbers into results/main_job/cpu.json, and from there the README's
`<!-- main-job -->` block, so the README never holds a number this tool did
not write.

  python tools/main_job.py --run [--out results/main_job/cpu.json]
  python tools/main_job.py [--check]   # the README block from the record

--run trains and evaluates (minutes on a 2-core CPU); without it the tool
only renders; --check exits 1 when the README's block differs from the
record (the test suite runs it).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import generated_block  # tools/, beside this file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECORD = os.path.join("results", "main_job", "cpu.json")
CONFIG = "configs/gi_centroid.py"
# The numbers the block quotes: (label, path in metrics.json's "eval" and
# "untrained", digits).
KEY_NUMBERS = (
    ("unseen-alphabet ratio", "unseen_alphabets.distance.ratio", 2),
    ("recall@1 at 5 drawings",
     "unseen_alphabets.disjoint_characters.size_curve.5.recall_at_1.mean", 3),
    ("20-way 1-shot", "unseen_alphabets.fewshot.20way_1shot.mean", 3),
    ("Lake's error", "lake_one_shot_error", 3),
)


def run(out: str) -> dict:
  """Runs the README's main job in a temporary workdir and cache; writes
  and returns its record."""
  sys.path.insert(0, ROOT)
  from grouprep import benchmark  # pylint: disable=g-import-not-at-top
  from grouprep import report  # pylint: disable=g-import-not-at-top
  from grouprep import sweep  # pylint: disable=g-import-not-at-top
  with tempfile.TemporaryDirectory() as tmp:
    workdir = os.path.join(tmp, "gi_centroid")
    env = dict(os.environ, GROUPREP_CACHE=os.path.join(tmp, "cache"))
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    cmd = [sys.executable, "-m", "grouprep.main", f"--config={CONFIG}",
           f"--workdir={workdir}"]
    load = [os.getloadavg()[0]]
    t0 = time.time()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                          text=True, check=False)
    wall = time.time() - t0
    load.append(os.getloadavg()[0])
    if done.returncode:
      raise SystemExit(f"the main job failed:\n{done.stderr[-3000:]}")
    with open(os.path.join(workdir, "metrics.json")) as f:
      metrics = json.load(f)
    record = {
        "command": "python -m grouprep.main "
                   f"--config={CONFIG} --workdir=runs/gi_centroid",
        "step": metrics["step"], "wall_seconds": round(wall, 1),
        "train_seconds": report.train_seconds(workdir),
        "paced_train_seconds": sweep.paced_train_seconds(workdir),
        "eval_seconds": metrics.get("eval_seconds"),
        "load_average_1min": [round(x, 2) for x in load],
        "stack": metrics.get("stack"),
        "numbers": {label: {"trained": report.get_dotted(metrics["eval"],
                                                         path),
                            "untrained": report.get_dotted(
                                metrics.get("untrained", {}), path)}
                    for label, path, _ in KEY_NUMBERS},
        **{k: v for k, v in benchmark.cpu_info().items()
           if k in ("cpu", "isa", "cores")}}
  os.makedirs(os.path.dirname(out), exist_ok=True)
  with open(out, "w") as f:
    json.dump(record, f, indent=1, sort_keys=True)
    f.write("\n")
  return record


def render(r: dict) -> str:
  """The README block from a record."""
  stack = r.get("stack") or {}
  have = [(label, r["numbers"][label], d) for label, _, d in KEY_NUMBERS
          if label in r["numbers"]]
  numbers = "; ".join(
      f"{label} {v['trained']:.{d}f} (untrained {v['untrained']:.{d}f})"
      for label, v, d in have
      if v["trained"] is not None and v["untrained"] is not None)
  return (f"What to expect (measured by `python tools/main_job.py --run` on "
          f"a fresh cache: {r.get('cpu', '?')}, {r.get('cores', '?')} cores, "
          f"Python {stack.get('python', '?')}, jax {stack.get('jax', '?')}): "
          f"{r['step']} training steps in {r['train_seconds']:.0f} s and the "
          f"evaluation in {r['eval_seconds']:.0f} s, {r['wall_seconds']:.0f} "
          f"s in all; one seed, a check of the install rather than a result "
          f"(the study's rows below are): {numbers}.\n")


def main(argv=None) -> int:
  p = argparse.ArgumentParser(
      description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--run", action="store_true",
                 help="train and evaluate the main job, then render")
  p.add_argument("--out", default=os.path.join(ROOT, RECORD))
  p.add_argument("--doc", default=os.path.join(ROOT, "README.md"))
  p.add_argument("--check", action="store_true")
  args = p.parse_args(argv)
  if args.run:
    run(args.out)
  with open(args.out) as f:
    record = json.load(f)
  return generated_block.write(args.doc, "main-job", render(record),
                               args.check, source=RECORD,
                               tool="tools/main_job.py")


if __name__ == "__main__":
  sys.exit(main())
