"""The docs' runnable examples, run as written: the own-data example of
docs/data.md (make a folder dataset, train and evaluate on it, embed it with
the command) and the API block of docs/api.md, in a fresh directory beside
the checkout's configs/ and examples/; and the dataset script, run again.
Every block marked runnable in the docs is claimed by a test here or in
tests/test_docs.py."""
import ast
import csv
import glob
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import TFDS_DIR, needs_tfds
from doc_blocks import ROOT, runnable_blocks


def test_the_docs_have_the_examples():
  blocks = runnable_blocks()
  page, lang, code = blocks["own-data"]
  assert (page, lang) == ("docs/data.md", "bash")
  assert "python -m grouprep.embed" in code
  page, lang, code = blocks["api"]
  assert (page, lang) == ("docs/api.md", "python")
  assert "grouprep.load" in code


@pytest.mark.slow
@needs_tfds
def test_the_own_data_and_api_examples_run_as_written(tmp_path):
  blocks = runnable_blocks()
  for name in ("configs", "examples"):
    os.symlink(os.path.join(ROOT, name), tmp_path / name)
  # The blocks' `python` is the interpreter running the tests.
  env = {**os.environ, "TFDS_DATA_DIR": TFDS_DIR,
         "GROUPREP_CACHE": str(tmp_path / "cache"),
         "PATH": os.path.dirname(sys.executable) + os.pathsep
                 + os.environ.get("PATH", "")}
  r = subprocess.run(
      ["bash", "-euo", "pipefail", "-c", blocks["own-data"][2]],
      cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
  assert r.returncode == 0, r.stderr[-3000:]
  out = tmp_path / "runs"
  # The dataset: 2,636 PNGs under LABEL/GROUP/, the same images in the CSV.
  pngs = sorted(os.path.relpath(p, out) for p in
                glob.glob(str(out / "own_data_images" / "*" / "*" / "*.png")))
  assert len(pngs) == 2636
  with open(out / "own_data_images.csv", newline="") as f:
    rows = list(csv.reader(f))
  assert rows[0] == ["path", "label", "group"]
  assert sorted(r[0] for r in rows[1:]) == pngs
  assert all(r[0].split(os.sep)[1:3] == r[2].split("/") for r in rows[1:])
  assert len({r[1] for r in rows[1:]}) == 20
  assert len({r[2] for r in rows[1:]}) == 60
  # Training and evaluation: 5 held-out labels in 15 groups.
  m = json.load(open(out / "own_data" / "metrics.json"))
  held = m["eval"]["heldout_labels"]
  assert (held["num_labels"], held["num_groups"]) == (5, 15)
  assert {"5way_1shot", "5way_5shot"} == set(held["fewshot"])
  headline = [json.loads(l) for l in r.stdout.splitlines()
              if l.startswith('{"config": "gi_centroid"')]
  assert headline == [{"config": "gi_centroid", "step": 30,
                       "heldout_labels": held["distance"],
                       "untrained_ratio": m["untrained"]["heldout_labels"][
                           "distance"]["ratio"]}]
  # The embedding command: every image and group; the note's metric of the
  # held-out labels' groups is evaluate's (1e-6), the trained labels' apart.
  z = np.load(out / "own_data.npz")
  assert z["item_embeddings"].shape == (2636, 64)
  assert z["group_embeddings"].shape == (60, 64)
  metric = json.loads(r.stdout.strip().splitlines()[-1])  # embed --metric
  assert set(metric) == {"heldout_labels", "trained_labels"}
  assert (metric["heldout_labels"]["num_labels"],
          metric["heldout_labels"]["num_groups"]) == (5, 15)
  assert (metric["trained_labels"]["num_labels"],
          metric["trained_labels"]["num_groups"]) == (15, 45)
  for key, value in held["distance"].items():
    assert metric["heldout_labels"][key] == pytest.approx(value, abs=1e-6)

  # The API block, with no TFDS data directory at all.
  env.pop("TFDS_DATA_DIR")
  r = subprocess.run([sys.executable, "-c", blocks["api"][2]], cwd=tmp_path,
                     env=env, capture_output=True, text=True, timeout=300)
  assert r.returncode == 0, r.stderr[-3000:]
  lines = r.stdout.splitlines()
  assert lines[0].startswith("Encoder('gi_centroid' at step 30")
  api, reported = (ast.literal_eval(l) for l in lines[1:3])
  assert reported == held["distance"]
  assert api.keys() == reported.keys()
  for key in reported:
    assert api[key] == pytest.approx(reported[key], abs=1e-6)
  assert lines[3] == "(1, 64) (15, 15)"


@needs_tfds
def test_the_dataset_script_reruns(tmp_path, capsys):
  """examples/make_folder_dataset.py a second time: a complete --out with
  the same arguments is kept and said so; other arguments rewrite it; a
  folder it did not write is refused."""
  spec = importlib.util.spec_from_file_location(
      "make_folder_dataset", os.path.join(ROOT, "examples",
                                          "make_folder_dataset.py"))
  script = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(script)
  out = str(tmp_path / "own")
  args = [f"--out={out}", "--alphabets=2", "--drawings=1",
          f"--data-dir={TFDS_DIR}"]
  script.main(args)
  assert capsys.readouterr().out.startswith("Wrote ")
  pngs = glob.glob(os.path.join(out, "*", "*", "*.png"))
  written = {p: os.stat(p).st_mtime_ns for p in pngs + [out + ".csv"]}
  script.main(args)
  assert "already hold this dataset" in capsys.readouterr().out
  assert {p: os.stat(p).st_mtime_ns for p in written} == written
  script.main(args[:2] + ["--drawings=2", args[3]])
  assert "written with other arguments" in capsys.readouterr().err
  assert len(glob.glob(os.path.join(out, "*", "*", "*.png"))) == 2 * len(pngs)
  assert not glob.glob(out + "*.partial")
  os.makedirs(tmp_path / "mine")
  with pytest.raises(SystemExit, match="was not written by this script"):
    script.main([f"--out={tmp_path / 'mine'}", f"--data-dir={TFDS_DIR}"])
