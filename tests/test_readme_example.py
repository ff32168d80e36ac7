"""The README's "Your own data" example, run as written: its bash block
(make the folder dataset, train and evaluate on it, embed it with the CLI)
and its Python block (the API), in a fresh directory beside the checkout's
configs/ and examples/."""
import ast
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import TFDS_DIR, needs_tfds

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def readme_blocks(section: str = "## Your own data"):
  """{language: the first fenced block of that language} of a section."""
  text = open(os.path.join(ROOT, "README.md")).read()
  body = text.split(section + "\n", 1)[1].split("\n## ", 1)[0]
  blocks = {}
  for lang, code in re.findall(r"```(\w+)\n(.*?)```", body, re.S):
    blocks.setdefault(lang, code)
  return blocks


def test_the_readme_has_the_example():
  blocks = readme_blocks()
  assert "python -m grouprep.embed" in blocks["bash"]
  assert "grouprep.load" in blocks["python"]


@pytest.mark.slow
@needs_tfds
def test_the_readme_example_runs_as_written(tmp_path):
  blocks = readme_blocks()
  for name in ("configs", "examples"):
    os.symlink(os.path.join(ROOT, name), tmp_path / name)
  env = {**os.environ, "TFDS_DATA_DIR": TFDS_DIR,
         "GROUPREP_CACHE": str(tmp_path / "cache")}
  r = subprocess.run(["bash", "-euo", "pipefail", "-c", blocks["bash"]],
                     cwd=tmp_path, env=env, capture_output=True, text=True,
                     timeout=900)
  assert r.returncode == 0, r.stderr[-3000:]
  metric = json.loads(r.stdout.strip().splitlines()[-1])  # embed --metric
  assert metric["ratio"] > 0
  z = np.load(tmp_path / "runs" / "own_data.npz")
  assert z["item_embeddings"].shape == (2636, 64)
  assert z["group_embeddings"].shape == (60, 64)
  m = json.load(open(tmp_path / "runs" / "own_data" / "metrics.json"))
  assert m["eval"]["heldout_labels"]["num_labels"] == 5
  assert {"5way_1shot", "5way_5shot"} == set(
      m["eval"]["heldout_labels"]["fewshot"])

  # The Python block, with no TFDS data directory at all.
  env.pop("TFDS_DATA_DIR")
  r = subprocess.run([sys.executable, "-c", blocks["python"]], cwd=tmp_path,
                     env=env, capture_output=True, text=True, timeout=300)
  assert r.returncode == 0, r.stderr[-3000:]
  lines = r.stdout.splitlines()
  assert lines[0].startswith("Encoder('gi_centroid' at step 30")
  api, reported = (ast.literal_eval(l) for l in lines[1:3])
  assert reported == m["eval"]["heldout_labels"]["distance"]
  for key in reported:
    assert api[key] == pytest.approx(reported[key], abs=1e-6)
  assert lines[3] == "(1, 64) (15, 15)"
