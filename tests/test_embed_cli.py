"""python -m grouprep.embed: the API's arrays in one .npz, the note's metric,
and bad input as one message with nothing half-written."""
import csv
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import copy_run_with_strokes, write_foreign_checkpoint
import grouprep
from grouprep import embed
from grouprep import tempfiles
from grouprep.data import folder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(capsys, *args):
  """(exit code, stdout, stderr) of embed.main in this process."""
  code = embed.main([str(a) for a in args])
  out, err = capsys.readouterr()
  return code, out, err


def leftovers(out):
  """Files beside `out` that a run may have left: the .npz or its temp."""
  return sorted(glob.glob(str(out) + "*") +
                glob.glob(os.path.join(os.path.dirname(str(out)),
                                       f".{os.path.basename(str(out))}*")))


def test_npz_holds_the_apis_arrays_and_metric(folder_run, tmp_path, capsys):
  _, workdir, data = folder_run
  out = tmp_path / "emb.npz"
  code, stdout, stderr = run_cli(capsys, f"--workdir={workdir}",
                                 f"--input={data}", f"--out={out}", "--metric")
  assert code == 0, stderr
  assert "embedding: 100%" in stderr  # the progress bar
  z = np.load(out)
  assert sorted(z.files) == sorted(embed.KEYS)
  m = folder.read_folder(data)
  np.testing.assert_array_equal(z["item_paths"], m.paths)
  files = [os.path.join(data, p) for p in m.paths]
  ids = np.array([p.rsplit("/", 1)[0] for p in m.paths])  # LABEL/GROUP
  enc = grouprep.load(workdir)
  np.testing.assert_array_equal(z["item_embeddings"], enc.embed_items(files))
  np.testing.assert_array_equal(z["group_embeddings"],
                                enc.embed_groups(files, ids))
  np.testing.assert_array_equal(z["group_ids"], np.unique(ids))
  np.testing.assert_array_equal(z["group_ids"][z["item_group"]], ids)
  np.testing.assert_array_equal(
      z["group_labels"], [g.split("/")[0] for g in z["group_ids"]])
  # The note's metric per set of labels: held out by the checkpoint (never
  # trained on) apart from those it trained on.
  stats = json.loads(stdout)
  assert set(stats) == {"heldout_labels", "trained_labels"}
  held = np.isin(z["group_labels"], ["label3", "label4"])
  for key, rows, labels in (("heldout_labels", held, 2),
                            ("trained_labels", ~held, 4)):
    assert stats[key] == {
        **grouprep.note_metric(z["group_embeddings"][rows],
                               z["group_labels"][rows]),
        "num_labels": labels, "num_groups": 3 * labels}
  assert "heldout_labels (held out by the checkpoint: never trained on), " \
         "trained_labels (trained on: a training-set figure" in stderr
  assert leftovers(out) == [str(out)]
  assert os.stat(out).st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
  mask = os.umask(0)
  os.umask(mask)
  return mask


def test_the_npz_has_a_new_files_permissions(folder_run, tmp_path, capsys):
  _, workdir, data = folder_run
  mask = os.umask(0o022)
  try:
    code, _, err = run_cli(capsys, f"--workdir={workdir}", f"--input={data}",
                           f"--out={tmp_path / 'emb.npz'}")
  finally:
    os.umask(mask)
  assert code == 0, err
  assert os.stat(tmp_path / "emb.npz").st_mode & 0o777 == 0o644


def test_metric_labels_are_split_by_what_the_checkpoint_trained_on(
    folder_run, tmp_path, capsys):
  """Labels new to the checkpoint are their own set; a checkpoint that
  recorded no labels (written before grouprep stored them) says the
  trained / held-out status is unknown."""
  _, workdir, data = folder_run
  renamed = shutil.copytree(data, tmp_path / "data")
  os.rename(renamed / "label0", renamed / "zeta")
  os.rename(renamed / "label1", renamed / "omega")
  code, out, err = run_cli(capsys, f"--workdir={workdir}",
                           f"--input={renamed}", f"--out={tmp_path / 'a.npz'}",
                           "--metric")
  assert code == 0, err
  stats = json.loads(out)
  assert {k: (v["num_labels"], v["num_groups"]) for k, v in stats.items()} == {
      "heldout_labels": (2, 6), "trained_labels": (2, 6),
      "new_labels": (2, 6)}
  old = shutil.copytree(workdir, tmp_path / "old")
  for d in glob.glob(str(old / "checkpoints" / "*" / "metadata")):
    shutil.rmtree(d)
  code, out, err = run_cli(capsys, f"--workdir={old}", f"--input={data}",
                           f"--out={tmp_path / 'b.npz'}", "--metric")
  assert code == 0, err
  stats = json.loads(out)
  z = np.load(tmp_path / "b.npz")
  assert stats["all_labels"] == {
      **grouprep.note_metric(z["group_embeddings"], z["group_labels"]),
      "num_labels": 6, "num_groups": 18}
  assert stats["trained_on"].startswith("unknown: the checkpoint records no "
                                        "label names of its training data")
  assert "which labels the checkpoint trained on is unknown" in err


def test_a_stale_temporary_npz_is_removed(folder_run, tmp_path, capsys):
  """The hidden temporary .npz a killed run left goes at the next start; a
  running one's stays."""
  _, workdir, data = folder_run
  out = tmp_path / "emb.npz"
  gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                        capture_output=True, text=True, check=True)
  stale = tempfiles.temporary_path(str(out), hidden=True, pid=int(gone.stdout))
  running = tempfiles.temporary_path(str(out), hidden=True, pid=os.getppid())
  for path in (stale, running):
    open(path, "wb").write(b"PK half")
  code, _, err = run_cli(capsys, f"--workdir={workdir}", f"--input={data}",
                         f"--out={out}")
  assert code == 0, err
  assert f"Removed {stale}" in err
  assert leftovers(out) == sorted([str(out), running])


def test_strokes_default_to_the_checkpoints(folder_run, tmp_path, capsys):
  _, workdir, data = folder_run
  bright = copy_run_with_strokes(workdir, tmp_path / "bright", "bright")
  code, _, err = run_cli(capsys, f"--workdir={bright}", f"--input={data}",
                         f"--out={tmp_path / 'emb.npz'}")
  assert code == 0, err
  files = [os.path.join(data, p) for p in folder.read_folder(data).paths]
  np.testing.assert_array_equal(
      np.load(tmp_path / "emb.npz")["item_embeddings"],
      grouprep.load(str(bright)).embed_items(files, strokes="bright"))


@pytest.mark.parametrize("value", ["0", "-3", "eight"])
def test_batch_size_must_be_positive(tmp_path, capsys, value):
  with pytest.raises(SystemExit) as exit_:
    embed.main([f"--workdir={tmp_path}", f"--input={tmp_path}",
                f"--out={tmp_path / 'x.npz'}", f"--batch-size={value}"])
  assert exit_.value.code == 2
  assert f"--batch-size: {value!r} is not an integer >= 1" in \
      capsys.readouterr().err


@pytest.mark.slow  # fast lane under 2 min
def test_a_csv_manifest_gives_the_same_groups(folder_run, tmp_path, capsys):
  _, workdir, data = folder_run
  m = folder.read_folder(data)
  with open(tmp_path / "items.csv", "w", newline="") as f:
    csv.writer(f).writerows(
        [(os.path.join(data, p), m.label_names[l], m.group_names[g])
         for p, l, g in zip(m.paths, m.label, m.group)][::-1])  # no header
  code, _, err = run_cli(capsys, f"--workdir={workdir}",
                         f"--input={tmp_path / 'items.csv'}",
                         f"--out={tmp_path / 'csv.npz'}")
  assert code == 0, err
  code, _, err = run_cli(capsys, f"--workdir={workdir}", f"--input={data}",
                         f"--out={tmp_path / 'folder.npz'}")
  a, b = np.load(tmp_path / "csv.npz"), np.load(tmp_path / "folder.npz")
  np.testing.assert_array_equal(a["group_ids"], b["group_ids"])
  np.testing.assert_allclose(a["group_embeddings"], b["group_embeddings"],
                             atol=1e-6)


@pytest.mark.slow  # fast lane under 2 min
def test_mixed_sizes_are_converted_and_said_once(folder_run, tmp_path,
                                                 capsys):
  _, workdir, data = folder_run
  mixed = shutil.copytree(data, tmp_path / "mixed")
  img = mixed / "label0" / "group0" / "img0.png"
  Image.open(img).convert("RGB").resize((40, 30)).save(img)
  code, _, err = run_cli(capsys, f"--workdir={workdir}", f"--input={mixed}",
                         f"--out={tmp_path / 'mixed.npz'}")
  assert code == 0, err
  assert err.count("warning") == 1 and "2 size(s) (20x20, 30x40)" in err


# --------------------------------------------------------------------------
# Bad input: one message, exit code 2, no .npz and no temporary file.
# --------------------------------------------------------------------------
def _unreadable(data, tmp_path):
  (data / "label2" / "group1" / "broken.png").write_bytes(b"\x89PNG garbage")
  return {}


def _empty_group(data, tmp_path):
  os.makedirs(data / "label0" / "group9")
  return {}


def _missing_input(data, tmp_path):
  return {"input": tmp_path / "nowhere"}


def _out_folder_missing(data, tmp_path):
  return {"out": tmp_path / "no" / "such" / "emb.npz"}


def _out_is_a_folder(data, tmp_path):
  os.makedirs(tmp_path / "taken.npz")
  return {"out": tmp_path / "taken.npz", "leaves": [tmp_path / "taken.npz"]}


def _another_model(data, tmp_path):
  wd = tmp_path / "other_wd"
  for path in glob.glob(str(wd / "checkpoints" / "*" / "config" /
                            "metadata")):
    saved = json.load(open(path))
    saved["model"]["width"] = 32  # the state holds width 8
    json.dump(saved, open(path, "w"))
  return {"workdir": wd}


def _no_checkpoint(data, tmp_path):
  return {"workdir": tmp_path / "untrained"}


def _no_train_state(data, tmp_path):
  write_foreign_checkpoint(tmp_path / "other_wd", tmp_path / "foreign_wd")
  return {"workdir": tmp_path / "foreign_wd"}


@pytest.mark.parametrize("damage,match", [
    (_unreadable, r"1 file\(s\) are not readable images: .*label2/group1/"
                  r"broken.png"),
    (_empty_group, r"empty group\(s\): label0/group9/"),
    (_missing_input, r"--input=.*nowhere does not exist"),
    (_out_folder_missing, r"Cannot write --out=.*: the folder .* does not "
                          r"exist"),
    (_out_is_a_folder, r"Cannot write --out=.*taken.npz: .*Is a directory"),
    (_another_model, r"not written by the model its own config describes"),
    (_no_checkpoint, r"No checkpoints in .*untrained"),
    (_no_train_state, r"not a grouprep train state: it lacks params/encoder, "
                      r"params/head, batch_stats"),
])
def test_bad_input_is_one_message_and_leaves_no_output(folder_run, tmp_path,
                                                       capsys, damage, match):
  _, workdir, data = folder_run
  data = shutil.copytree(data, tmp_path / "data")
  shutil.copytree(workdir, tmp_path / "other_wd")
  args = {"workdir": workdir, "input": data, "out": tmp_path / "emb.npz"}
  changed = damage(data, tmp_path)
  expected_leftovers = [str(p) for p in changed.pop("leaves", [])]
  args.update(changed)
  code, stdout, stderr = run_cli(capsys, *[f"--{k}={v}" for k, v in
                                           args.items()], "--metric")
  assert code == 2 and stdout == ""
  lines = [l for l in stderr.splitlines() if l.startswith("grouprep: error:")]
  assert len(lines) == 1, stderr
  assert re.search(match, lines[0]), lines[0]
  assert leftovers(args["out"]) == expected_leftovers


@pytest.mark.slow  # fast lane under 2 min
def test_a_failed_write_leaves_no_partial_file(folder_run, tmp_path, capsys,
                                               monkeypatch):
  _, workdir, data = folder_run

  def disk_full(f, **arrays):
    f.write(b"PK\x03\x04 half an archive")
    raise OSError(28, "No space left on device")

  monkeypatch.setattr(embed.np, "savez", disk_full)
  out = tmp_path / "emb.npz"
  code, _, err = run_cli(capsys, f"--workdir={workdir}", f"--input={data}",
                         f"--out={out}")
  assert code == 2 and "No space left on device" in err
  assert leftovers(out) == []


@pytest.mark.slow
def test_the_command_line_entry_point(folder_run, tmp_path):
  _, workdir, data = folder_run
  run = lambda *a: subprocess.run(
      [sys.executable, "-m", "grouprep.embed", *a], cwd=ROOT,
      capture_output=True, text=True, timeout=300)
  r = run(f"--workdir={workdir}", f"--input={data}",
          f"--out={tmp_path / 'emb.npz'}", "--metric")
  assert r.returncode == 0, r.stderr[-2000:]
  stats = json.loads(r.stdout)
  assert set(stats) == {"heldout_labels", "trained_labels"}
  assert set(stats["heldout_labels"]) == {"same_label_mean", "diff_label_mean",
                                          "ratio", "num_labels", "num_groups"}
  assert np.load(tmp_path / "emb.npz")["item_embeddings"].shape == (90, 8)
  r = run(f"--workdir={workdir}", f"--input={tmp_path / 'nowhere'}",
          f"--out={tmp_path / 'x.npz'}")
  assert r.returncode == 2 and r.stderr.strip().startswith("grouprep: error:")
