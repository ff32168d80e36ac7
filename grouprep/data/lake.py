"""Lake et al.'s 20 within-alphabet 20-way one-shot runs (all_runs.zip in
shared/omniglot), decoded by omniglot.strokes_image like every image."""
import io
import os
import zipfile

import numpy as np
from PIL import Image

from grouprep.data import omniglot

RUNS_FILE = os.path.join("omniglot", "all_runs.zip")
# Lake's runs 01-08 draw on evaluation alphabets whose characters the Vinyals
# trainval split holds (156 of their 160 classes): Vinyals-trained encoders
# are scored on runs 09-20 alone.
RUNS_TRAINED_BY_VINYALS = tuple(f"run{i:02d}" for i in range(1, 9))


def _strokes(png: bytes, image_size: int) -> np.ndarray:
  """A run's 1-bit PNG (white background) -> [S, S] uint8, strokes bright."""
  is_stroke = np.asarray(Image.open(io.BytesIO(png)).convert("L")) < 128
  return omniglot.strokes_image(is_stroke, image_size)


def load_runs(path: str, image_size: int, exclude=()):
  """[(train [20, S, S], test [20, S, S], test_label [20])] for the 20 runs
  (less the run names in `exclude`).

  Row j of train is class j; test_label gives each test image's class.
  """
  runs = []
  with zipfile.ZipFile(path) as z:
    names = sorted({n.split("/")[0] for n in z.namelist() if "/" in n}
                   - set(exclude))
    for run in names:
      pairs = [l.split() for l in z.read(f"{run}/class_labels.txt").decode()
               .splitlines() if l.strip()]
      train_files = sorted({p[1] for p in pairs})
      label = np.array([train_files.index(p[1]) for p in pairs])
      train = np.stack([_strokes(z.read(f), image_size) for f in train_files])
      test = np.stack([_strokes(z.read(p[0]), image_size) for p in pairs])
      runs.append((train, test, label))
  return runs
