"""Embed items and groups with a trained checkpoint: `grouprep.load`.

  import grouprep
  enc = grouprep.load("runs/gi_centroid")        # the latest checkpoint
  items = enc.embed_items(images)                 # [N, D]
  groups = enc.embed_groups(images, group_ids)    # [G, D], sorted group ids
  enc.distances(groups, groups)                   # [G, G]
  grouprep.note_metric(groups, labels)            # the note's metric

The checkpoint brings its config and the sizes of its heads (checkpoints.py's
metadata): no config file and no dataset are read. Everything is in the
method's embedding space, computed by the code `evaluate` measures with
(grouprep/encoder.py): an item is unit(f(x)) ("unit" space: cosine-type
losses) or f(x) ("raw": -||.||^2); a group is what the method's loss pools
(unit(pool(raw items)) for the group-contrastive losses, their learned
pooling parameters included), or the config's pooling of the items in the
space for methods that pool only at evaluation. The encoder runs in eval
mode (BatchNorm's running statistics), jitted, in batches, on JAX's default
device (CPU or an accelerator alike).

Images come as a person has them and are converted by the one rule of
grouprep/data/images.py: uint8 (0..255, or 0/1 as TFDS decodes 1-bit PNGs:
decided once per call, over all its integer arrays), uint16, bool or float
in [0, 1]; [N, H, W] or [N, H, W, C] arrays (one [H, W, C] image is
refused: wrap it in a list), or a list of arrays of any sizes or of image
file paths (a bare path is refused: pass [path]); gray, gray + alpha, RGB
or RGBA (luma 0.299 R + 0.587 G + 0.114 B; alpha over the background);
strokes as the checkpoint's training data had them (config.data.strokes,
"dark" -- dark on a light background -- unless it trained on a "bright"
folder dataset) or as `strokes=` says; padded to a square and
box-filtered to the training size (config.data.image_size), exactly as the
training data was decoded.
"""
import os
import sys
import warnings
from typing import Dict, Optional

import jax
import numpy as np

from grouprep import encoder as encoder_lib
from grouprep import metrics
from grouprep import models
from grouprep import platform
from grouprep.data import images as images_lib
from grouprep.methods.registry import get_method


class Encoder:
  """A trained encoder and its group pooling, restored by `load`.

  config: the ConfigDict that trained it; step: the checkpoint's step;
  embedding_space: "unit" or "raw"; pooling: config.loss.pooling;
  image_size: S, the side images are resized to; dim: D; num_classes: the
  training classes its heads were sized for (None for a checkpoint written
  before grouprep stored it); dataset: what the checkpoint recorded of its
  training data (None likewise); batch_size: images per forward pass;
  strokes: the stroke convention of its training data (config.data.strokes),
  the default of embed_items / embed_groups.
  """

  def __init__(self, config, step: int, variables: dict, head,
               metadata: Optional[dict], batch_size: int, workdir: str):
    self.config, self.step, self.workdir = config, step, workdir
    self.batch_size = batch_size
    self.num_classes = (metadata or {}).get("num_classes")
    self.dataset = (metadata or {}).get("dataset")
    self._model = models.create_model(config.model)
    self._apply = encoder_lib.make_apply_fn(self._model)
    # On the default device once, not with every batch.
    self._variables = jax.device_put(variables)
    method = get_method(config.loss)
    self.embedding_space = method.embedding_space
    self.pooling = config.loss.pooling
    self._space = encoder_lib.Space.of(method, config.loss.pooling, head)
    self.image_size = int(config.data.image_size)
    self.strokes = config.data.get("strokes") or "dark"  # older configs
    x = jax.ShapeDtypeStruct((1, self.image_size, self.image_size, 1),
                             np.float32)
    self.dim = int(jax.eval_shape(self._apply, self._variables, x).shape[-1])

  def __repr__(self) -> str:
    return (f"Encoder({self.config.name!r} at step {self.step} of "
            f"{self.workdir!r}: {self.image_size}x{self.image_size} images -> "
            f"{self.dim}-d, {self.embedding_space} space, {self.pooling} "
            f"groups)")

  # ---- Embeddings. ----
  def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
    """[n, S, S] uint8 in the training convention (images.Converter's
    output), n <= batch_size -> raw encoder outputs [n, D]."""
    x = images_lib.to_float(pixels)[..., None]
    # A power of two in [8, batch_size]: a few shapes (a few compilations)
    # serve every input size.
    padded = min(self.batch_size, encoder_lib.bucket(max(len(x), 1)))
    embed = encoder_lib.make_embed_fn(self._model, self._variables, padded,
                                 self._apply)
    with self._precision():
      return embed(x)

  def _precision(self):
    """The context every computation of the encoder runs in: the config's
    evaluation precision (checkpoints written before the field: float32, as
    they trained), as evaluate computes."""
    return jax.default_matmul_precision(
        self.config.eval.get("matmul_precision", "highest"))

  @staticmethod
  def _images(images):
    """The images argument as an array or a list (ImageReadError for one
    path or one [H, W, C] array: images.check_images)."""
    return images_lib.as_images(images)

  def _raw(self, images, strokes: Optional[str]) -> np.ndarray:
    """Images (_images's) -> raw encoder outputs [N, D], batch_size images
    at a time, integer arrays read on one scale decided over all of them."""
    converter = images_lib.Converter(self.image_size, strokes or self.strokes,
                                     images_lib.integer_scale(images))
    out = [self.embed_pixels(converter(images[lo:lo + self.batch_size], lo))
           for lo in range(0, len(images), self.batch_size)]
    note = converter.mixed_note()
    if note:
      warnings.warn(note, stacklevel=3)
    return (np.concatenate(out) if out else
            np.zeros((0, self.dim), np.float32))

  def items_from_raw(self, raw: np.ndarray) -> np.ndarray:
    """Raw encoder outputs [N, D] -> item embeddings in the space."""
    with self._precision():
      return self._space.items(raw)

  def groups_from_raw(self, raw: np.ndarray, group_ids) -> np.ndarray:
    """Raw encoder outputs [N, D] and their group ids [N] -> [G, D], one row
    per distinct id in sorted order (np.unique's), pooled as the method
    pools."""
    group_ids = np.asarray(group_ids)
    if group_ids.shape != (len(raw),):
      raise ValueError(f"group_ids must hold one id per image: shape "
                       f"{group_ids.shape} for {len(raw)} images.")
    _, inverse, counts = np.unique(group_ids, return_inverse=True,
                                   return_counts=True)
    members = np.split(np.argsort(inverse, kind="stable"),
                       np.cumsum(counts)[:-1]) if len(inverse) else []
    with self._precision():  # a medoid's Gram matrix, attention pooling
      return self._space.groups(self._space.pool_input(raw), members)

  def embed_items(self, images, *,
                  strokes: Optional[str] = None) -> np.ndarray:
    """Images -> item embeddings [N, D] float32 in the method's space.
    strokes: "dark" | "bright" (default: self.strokes, the training data's)."""
    return self.items_from_raw(self._raw(self._images(images), strokes))

  def embed_groups(self, images, group_ids, *,
                   strokes: Optional[str] = None) -> np.ndarray:
    """Images and the group id of each ([N], any sortable ids) -> group
    embeddings [G, D] float32, row g the group np.unique(group_ids)[g],
    pooled with the trained pooling (learned parameters included)."""
    images = self._images(images)
    if np.shape(group_ids) != (len(images),):
      raise ValueError(f"group_ids must hold one id per image: shape "
                       f"{np.shape(group_ids)} for {len(images)} images.")
    return self.groups_from_raw(self._raw(images, strokes), group_ids)

  @staticmethod
  def distances(a: np.ndarray, b: Optional[np.ndarray] = None) -> np.ndarray:
    """Euclidean distances [Ga, Gb] (float64) between rows of a [Ga, D] and
    b [Gb, D] (default a): the distance every metric of grouprep uses."""
    return metrics.pairwise_distances(a, b)


def load(workdir: str, *, batch_size: Optional[int] = None,
         precision: Optional[str] = None) -> Encoder:
  """The encoder of the latest readable checkpoint in WORKDIR/checkpoints.

  precision: the matmul precision it computes at (platform.PRECISIONS;
  default: the config's eval.matmul_precision, `highest`).
  batch_size: images per forward pass, >= 1 (default: the config's
  eval.batch_size); smaller inputs are padded to the next power of two.
  Raises checkpoints.CheckpointError when there is no checkpoint, none is
  readable, its state is not a grouprep train state, or not the model its
  config describes.
  """
  if batch_size is not None and (
      not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
    raise ValueError(f"batch_size={batch_size!r} must be an integer >= 1 "
                     f"(images per forward pass).")
  restored = encoder_lib.restore(workdir)
  config = restored.config
  if precision is not None:
    if precision not in platform.PRECISIONS:
      raise ValueError(f"precision={precision!r} is not one of "
                       f"{platform.PRECISIONS}.")
    config.eval.matmul_precision = precision
  if (restored.metadata or {}).get("num_classes") is None:
    print(f"grouprep: note: the checkpoint at step {restored.step} in "
          f"{restored.where} was written before grouprep stored head sizes "
          f"with its checkpoints; its encoder and pooling are restored as "
          f"saved and its classifier head (if any) is not checked.",
          file=sys.stderr, flush=True)
  return Encoder(config, restored.step, restored.variables, restored.head,
                 restored.metadata,
                 batch_size or int(config.eval.batch_size),
                 os.path.abspath(workdir))


def note_metric(group_embeddings, labels) -> Dict[str, float]:
  """The note's metric of group embeddings [G, D] with labels [G] (any
  comparable values): {"same_label_mean", "diff_label_mean", "ratio"}, the
  mean Euclidean distance over unordered pairs of distinct groups of the
  same / of different labels and diff / same. The function evaluate's
  `distance` evaluator reports (metrics.distance_stats)."""
  emb = np.asarray(group_embeddings)
  labels = np.asarray(labels)
  if emb.ndim != 2 or labels.shape != (len(emb),):
    raise ValueError(f"note_metric takes group embeddings [G, D] and one "
                     f"label per group [G]; got {emb.shape} and "
                     f"{labels.shape}.")
  _, ids, counts = np.unique(labels, return_inverse=True, return_counts=True)
  same_pairs = int((counts * (counts - 1) // 2).sum())
  all_pairs = len(emb) * (len(emb) - 1) // 2
  if not same_pairs or same_pairs == all_pairs:
    raise ValueError(
        f"The note's metric compares same-label and different-label group "
        f"pairs; these {len(emb)} groups of {len(counts)} label(s) have "
        f"{same_pairs} same-label and {all_pairs - same_pairs} "
        f"different-label pairs.")
  return metrics.distance_stats(emb, ids)
