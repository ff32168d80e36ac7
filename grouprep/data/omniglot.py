"""Omniglot from TFDS, decoded once to a compact array and cached on disk.

TFDS decodes Omniglot's 1-bit PNGs to 0/1 with 1 = white background. We keep
one grayscale channel, flip it so strokes are bright, resize with area
averaging and store uint8 (0 = background, 255 = stroke).
"""
import dataclasses
import os
import socket
import sys
import time
from typing import Optional

import numpy as np
from absl import logging

from grouprep.data import images as images_lib
from grouprep.errors import DataError

DATASET = "omniglot"
VERSION = "3.0.0"
SPLITS = ("train", "test", "small1", "small2")
_SOURCE_HOST = ("github.com", 443)  # where TFDS's omniglot builder downloads from


@dataclasses.dataclass(frozen=True)
class OmniglotSplit:
  """One TFDS split in memory. N images of S x S pixels.

  images: [N, S, S] uint8, strokes bright; alphabet: [N] alphabet id (0..49);
  character: [N] TFDS `label` (0..1622, unique over alphabets);
  alphabet_char_id: [N] the character's index within its alphabet.
  """
  images: np.ndarray
  alphabet: np.ndarray
  character: np.ndarray
  alphabet_char_id: np.ndarray
  alphabet_names: tuple

  def __len__(self) -> int:
    return len(self.images)


def default_cache_dir() -> str:
  return os.environ.get("GROUPREP_CACHE",
                        os.path.join(os.path.expanduser("~"), ".cache",
                                     "grouprep"))


def _network_reachable(timeout: float = 3.0) -> bool:
  try:
    with socket.create_connection(_SOURCE_HOST, timeout=timeout):
      return True
  except OSError:
    return False


def _missing_message(data_dir: Optional[str], why: str) -> str:
  where = data_dir or os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets"
  return (
      f"TFDS '{DATASET}' {VERSION} is not prepared under {where!r} and {why}. "
      f"Provide a prepared copy: set TFDS_DATA_DIR (or --config.data.data_dir) "
      f"to a directory holding {DATASET}/{VERSION}/ (in this project's "
      f"environment: TFDS_DATA_DIR=../shared/tensorflow_datasets), or run "
      f"`tfds build {DATASET}` once on a machine with internet and "
      f"`pip install tensorflow`.")


def get_builder(data_dir: Optional[str] = None, download: bool = True):
  """The prepared TFDS builder; prepares it only when that can work."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  builder = tfds.builder(f"{DATASET}:{VERSION}", data_dir=data_dir)
  if builder.is_prepared():
    return builder
  if not download:
    raise DataError(_missing_message(data_dir, "config.data.download=False"))
  try:
    import tensorflow  # noqa: F401  pylint: disable=g-import-not-at-top,unused-import
  except ImportError:
    raise DataError(_missing_message(
        data_dir, "preparing it needs `tensorflow`, which is not installed"
    )) from None
  if not _network_reachable():
    raise DataError(_missing_message(data_dir, "the network is unreachable"))
  print(f"Preparing TFDS {DATASET} under {builder.data_dir} (downloads ~10 MB).",
        file=sys.stderr, flush=True)
  builder.download_and_prepare()
  return builder


def strokes_image(is_stroke: np.ndarray, image_size: int) -> np.ndarray:
  """A drawing [H, W] bool (True: stroke) -> [S, S] uint8, strokes 255 on 0,
  box-filtered to image_size by images.resize_strokes: the one rule for
  every image (TFDS's, Lake's runs, a folder's, grouprep.load's input)."""
  return images_lib.resize_strokes(is_stroke.astype(np.uint8) * 255,
                                   image_size)


def _decode(examples, image_size: int) -> np.ndarray:
  out = np.empty((len(examples), image_size, image_size), np.uint8)
  for i, ex in enumerate(examples):
    out[i] = strokes_image(ex["image"][..., 0] == 0, image_size)  # 0: stroke
  return out


def _decode_split(split: str, image_size: int, data_dir: Optional[str],
                  download: bool) -> OmniglotSplit:
  builder = get_builder(data_dir, download)
  source = builder.as_data_source(split)
  n = len(source)
  examples = source.__getitems__(list(range(n)))
  names = tuple(builder.info.features["alphabet"].names)
  return OmniglotSplit(
      images=_decode(examples, image_size),
      alphabet=np.array([e["alphabet"] for e in examples], np.int32),
      character=np.array([e["label"] for e in examples], np.int32),
      alphabet_char_id=np.array([e["alphabet_char_id"] for e in examples],
                                np.int32),
      alphabet_names=names)


def load_split(split: str, *, image_size: int = 28,
               data_dir: Optional[str] = None,
               cache_dir: Optional[str] = None,
               download: bool = True) -> OmniglotSplit:
  """One Omniglot split as arrays; decoded once, then read from the cache."""
  if split not in SPLITS:
    raise DataError(f"Omniglot split {split!r} is not one of {SPLITS}.")
  if not 8 <= image_size <= 105:
    raise DataError(f"config.data.image_size={image_size} must be in [8, 105].")
  cache_dir = cache_dir or default_cache_dir()
  path = os.path.join(cache_dir, f"{DATASET}-{VERSION}-{split}-{image_size}.npz")
  if os.path.exists(path):
    try:
      with np.load(path) as z:
        return OmniglotSplit(
            images=z["images"], alphabet=z["alphabet"],
            character=z["character"], alphabet_char_id=z["alphabet_char_id"],
            alphabet_names=tuple(str(s) for s in z["alphabet_names"]))
    except Exception as e:  # pylint: disable=broad-except
      logging.warning("Ignoring unreadable cache %s (%s); decoding again.",
                      path, e)
  t0 = time.time()
  print(f"Decoding omniglot/{split} at {image_size}px once; cache: {path}",
        file=sys.stderr, flush=True)
  data = _decode_split(split, image_size, data_dir, download)
  print(f"Decoded {len(data)} images in {time.time() - t0:.1f}s.",
        file=sys.stderr, flush=True)
  try:
    os.makedirs(cache_dir, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp.npz"
    np.savez(tmp, images=data.images, alphabet=data.alphabet,
             character=data.character, alphabet_char_id=data.alphabet_char_id,
             alphabet_names=np.array(data.alphabet_names))
    os.replace(tmp, path)
  except OSError as e:
    logging.warning("Could not write the cache %s (%s).", path, e)
  return data
