"""Images as a person has them -> the training convention (one rule).

The encoder is trained on [S, S] images, grayscale, strokes bright: pixel
values in [0, 1], 1 = stroke, 0 = background (Omniglot decoded by
omniglot.py). Every image grouprep reads -- TFDS's Omniglot, Lake's runs, a
folder or CSV dataset, the arrays given to grouprep.load's encoder -- goes
through this module's rule:

1. values to [0, 1]: bool as 0/1; float images must already lie in
   [0, 1]; integer arrays on one scale per call, decided once over every
   integer array of the call (`integer_scale`): 0/1 when all their values
   are 0 or 1 (TFDS decodes Omniglot's 1-bit PNGs so, 1 = white), else
   uint8 / 255, uint16 / 65535 and other integers / 255 (/ 65535 when a
   value of the call exceeds 255) -- so a batch never reads one image as
   0/1 and the next as 0..255. Files are read by their decoded mode, never
   by content: 1-bit as bool, 8-bit / 255, 16-bit / 65535, after their
   EXIF orientation is applied (PIL.ImageOps.exif_transpose);
2. channels: [H, W] or [H, W, 1] gray; [H, W, 2] gray + alpha; [H, W, 3]
   RGB; [H, W, 4] RGBA. Colour -> gray by ITU-R 601-2 luma (0.299 R +
   0.587 G + 0.114 B, PIL's "L"); alpha composites the image over the
   background (white for dark strokes, black for bright ones);
3. strokes="dark" (dark strokes on a light background, as drawings are
   scanned and as Omniglot's files are) -> 1 - value; "bright" -> as is;
4. quantised to uint8 (round(255 x)), padded to a square with background
   (centred; Omniglot's images are square already) and resized to S x S by
   PIL's box filter (Image.resize(..., Image.Resampling.BOX), uint8 in and
   out) -- `resize_strokes`, the rule omniglot.py decodes TFDS with;
5. the encoder reads uint8 / 255 as float32 (`to_float`).

So a TFDS Omniglot image passed raw (105 x 105 x 3, 0/1, strokes="dark")
becomes exactly the array the training cache holds. Several images are an
[N, H, W] or [N, H, W, C] array or a list; one [H, W, C] array (last axis
1..4, wider than 4) is refused rather than read as H images (check_images).
"""
import os
from typing import Optional

import numpy as np
from PIL import Image
from PIL import ImageOps

from grouprep import errors

STROKES = ("dark", "bright")
LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R 601-2, PIL's convert("L")
LAYOUTS = {1: "gray", 2: "gray+alpha", 3: "RGB", 4: "RGBA"}


class ImageReadError(errors.DataError, ValueError):
  """An image file or array grouprep cannot read as an image."""


def resize_strokes(strokes: np.ndarray, image_size: int) -> np.ndarray:
  """[H, W] uint8, strokes bright on 0 -> [S, S] uint8: padded to a centred
  square with 0 (background), then box-filtered to image_size."""
  h, w = strokes.shape
  if h != w:
    side = max(h, w)
    square = np.zeros((side, side), np.uint8)
    top, left = (side - h) // 2, (side - w) // 2
    square[top:top + h, left:left + w] = strokes
    strokes = square
  img = Image.fromarray(np.ascontiguousarray(strokes, np.uint8))
  if image_size != img.size[0]:
    img = img.resize((image_size, image_size), Image.Resampling.BOX)
  return np.asarray(img)


def integer_scale(images) -> int:
  """Rule 1's one scale for the integer arrays among `images` (paths and
  other dtypes are ignored): 1 when every value is 0 or 1, 65535 when one
  exceeds 255, else 255. Arrays read with it: `unit_values(a, scale)`."""
  top = 0
  for a in [images] if isinstance(images, np.ndarray) else images:
    if isinstance(a, (str, bytes, os.PathLike)):
      continue
    a = np.asarray(a)
    if np.issubdtype(a.dtype, np.integer) and a.size:
      top = max(top, int(a.max()))
  return 1 if top <= 1 else 65535 if top > 255 else 255


def unit_values(image: np.ndarray, scale: Optional[int] = None) -> np.ndarray:
  """Pixel values -> float64 in [0, 1] (rule 1 of the module docstring).

  scale: the call's integer_scale (default: this image's own)."""
  a = np.asarray(image)
  if a.dtype == bool:
    return a.astype(np.float64)
  if np.issubdtype(a.dtype, np.integer):
    if a.size and (a.min() < 0 or a.max() > np.iinfo(np.uint16).max):
      raise ImageReadError(
          f"integer pixel values must lie in [0, 65535]; got "
          f"[{a.min()}, {a.max()}].")
    scale = integer_scale([a]) if scale is None else scale
    if scale == 1:
      return a.astype(np.float64)  # 0/1 images (TFDS's 1-bit PNGs)
    if a.dtype == np.uint8:
      scale = 255
    elif a.dtype == np.uint16:
      scale = 65535
    return a.astype(np.float64) / scale
  if np.issubdtype(a.dtype, np.floating):
    if a.size and not (np.isfinite(a).all() and a.min() >= 0 and a.max() <= 1):
      raise ImageReadError(
          f"float pixel values must lie in [0, 1]; got [{np.nanmin(a):.4g}, "
          f"{np.nanmax(a):.4g}] (pass uint8 0..255, or divide by 255).")
    return a.astype(np.float64)
  raise ImageReadError(f"pixels of dtype {a.dtype} are not an image.")


def layout(image: np.ndarray) -> str:
  """"gray", "gray+alpha", "RGB" or "RGBA"; an ImageReadError otherwise."""
  shape = np.shape(image)
  if len(shape) == 2:
    return "gray"
  if len(shape) == 3 and shape[-1] in LAYOUTS:
    return LAYOUTS[shape[-1]]
  raise ImageReadError(
      f"an image is [H, W] or [H, W, C] with C in 1..4; got shape {shape}.")


def strokes_bright(image: np.ndarray, strokes: str = "dark",
                   scale: Optional[int] = None) -> np.ndarray:
  """One image (any size, gray / RGB / with alpha, any of rule 1's dtypes)
  -> [H, W] float64 in [0, 1], strokes 1 (rules 1-3); scale: unit_values'."""
  if strokes not in STROKES:
    raise ValueError(f"strokes={strokes!r} is not one of {STROKES}.")
  kind = layout(image)
  x = unit_values(image, scale)
  if x.ndim == 3:
    alpha = x[..., -1] if kind in ("gray+alpha", "RGBA") else None
    colour = x[..., :3] if kind.startswith("RGB") else x[..., 0]
    x = colour @ LUMA if colour.ndim == 3 else colour
    if alpha is not None:
      background = 1.0 if strokes == "dark" else 0.0
      x = alpha * x + (1.0 - alpha) * background
  return 1.0 - x if strokes == "dark" else x


def training_image(image: np.ndarray, image_size: int,
                   strokes: str = "dark",
                   scale: Optional[int] = None) -> np.ndarray:
  """One image -> [S, S] uint8, strokes 255 on 0 (rules 1-4); scale:
  unit_values'."""
  x = strokes_bright(image, strokes, scale)
  if x.shape[0] < 1 or x.shape[1] < 1:
    raise ImageReadError(f"an image of shape {np.shape(image)} has no pixels.")
  return resize_strokes(np.rint(np.clip(x, 0, 1) * 255).astype(np.uint8),
                        image_size)


def to_float(pixels: np.ndarray) -> np.ndarray:
  """uint8 [..., S, S] -> float32 in [0, 1], the encoder's input scale."""
  return pixels.astype(np.float32) * (1.0 / 255.0)


def read_file(path: str) -> np.ndarray:
  """An image file -> its pixels as PIL decodes them, turned upright by its
  EXIF orientation ([H, W] bool, uint8 or uint16, [H, W, 2 | 3 | 4]
  uint8); ImageReadError naming the file."""
  try:
    with Image.open(path) as img:
      img.load()
      ImageOps.exif_transpose(img, in_place=True)
      if img.mode in ("P", "PA") and (img.mode == "PA" or
                                       "transparency" in img.info):
        img = img.convert("RGBA")
      elif img.mode == "La":
        img = img.convert("LA")
      elif not (img.mode in ("1", "L", "LA", "RGB", "RGBA") or
                img.mode.startswith("I;16")):
        img = img.convert("RGB")  # palette, CMYK, YCbCr, 32-bit, float
      return np.array(img)
  except FileNotFoundError:
    raise ImageReadError(f"{path}: no such file") from None
  except (OSError, ValueError, SyntaxError,
          Image.DecompressionBombError) as e:  # PIL's ways of failing
    raise ImageReadError(f"{path}: not a readable image "
                         f"({type(e).__name__}: {e})") from None


def file_scale(pixels: np.ndarray) -> int:
  """The scale of read_file's pixels, by their decoded dtype: 65535 for
  16-bit files, else 255 (1-bit files are bool)."""
  return 65535 if pixels.dtype == np.uint16 else 255


def as_images(images):
  """images as an array or a list, after check_images: an array-like that
  is not a list or tuple (a jax.Array, a torch or tf tensor) becomes a
  NumPy array first, so one [H, W, C] image of any array type is caught."""
  if not isinstance(images, (list, tuple, str, bytes, os.PathLike,
                             np.ndarray)) and hasattr(images, "__array__"):
    images = np.asarray(images)
  check_images(images)
  return images if isinstance(images, np.ndarray) else list(images)


def check_images(images) -> None:
  """An ImageReadError for what is not several images: a bare path (a str
  would be read character by character), an array that is not [N, H, W]
  or [N, H, W, C], or one that looks like a single [H, W, C] image."""
  if isinstance(images, (str, bytes, os.PathLike)):
    raise ImageReadError(
        f"images is one path ({os.fspath(images)!r}); pass a list of paths: "
        f"[path].")
  if not isinstance(images, np.ndarray):
    return
  if images.ndim not in (3, 4):
    raise ImageReadError(
        f"an array of images is [N, H, W] or [N, H, W, C]; got shape "
        f"{images.shape} (wrap one image in a list: [image]).")
  n, h, w = images.shape[:3]
  if images.ndim == 3 and 1 <= w <= 4 < h:
    raise ImageReadError(
        f"an array of shape {images.shape} reads as one {LAYOUTS[w]} image "
        f"[H, W, C], not {n} images {w} pixels wide: wrap one image in a "
        f"list ([image]); a stack of narrow gray images takes a channel "
        f"axis (images[..., None]).")


class Converter:
  """Images -> [N, S, S] uint8 in the training convention, remembering the
  sizes and channel layouts seen, so that mixed inputs are converted and
  said once (`mixed_note`).

  scale: integer_scale of every array of the call when the images come in
  several batches (grouprep.load's encoder decides it once over its whole
  input); default: decided per __call__."""

  def __init__(self, image_size: int, strokes: str = "dark",
               scale: Optional[int] = None):
    if strokes not in STROKES:
      raise ValueError(f"strokes={strokes!r} is not one of {STROKES}.")
    self.image_size, self.strokes, self.scale = image_size, strokes, scale
    self.sizes, self.layouts = set(), set()

  def one(self, image, scale: Optional[int] = None) -> np.ndarray:
    """An array (or a path, read by read_file and scaled by its mode) ->
    [S, S] uint8; scale: the call's integer_scale for an array."""
    if isinstance(image, (str, os.PathLike)):
      image = read_file(os.fspath(image))
      scale = file_scale(image)
    image = np.asarray(image)
    self.layouts.add(layout(image))
    self.sizes.add(image.shape[:2])
    return training_image(image, self.image_size, self.strokes, scale)

  def __call__(self, images, offset: int = 0) -> np.ndarray:
    """images: an array [N, H, W] (gray) or [N, H, W, C], or a sequence of
    images of any sizes ([H, W] or [H, W, C] arrays, or file paths).
    offset: the index of images[0] in the caller's input, for messages."""
    images = as_images(images)
    scale = self.scale if self.scale is not None else integer_scale(images)
    out = np.empty((len(images), self.image_size, self.image_size), np.uint8)
    for i, image in enumerate(images):
      try:
        out[i] = self.one(image, scale)
      except ImageReadError as e:
        raise ImageReadError(f"images[{offset + i}]: {e}") from None
    return out

  def mixed_note(self, where: str = "the images") -> Optional[str]:
    """A one-line note when the images came in several sizes or channel
    layouts (each was converted), else None."""
    if len(self.sizes) <= 1 and len(self.layouts) <= 1:
      return None
    sizes = sorted(self.sizes)
    shown = ", ".join(f"{h}x{w}" for h, w in sizes[:4]) + (
        ", ..." if len(sizes) > 4 else "")
    return (f"{where} come in {len(sizes)} size(s) ({shown}) and "
            f"{len(self.layouts)} channel layout(s) "
            f"({', '.join(sorted(self.layouts))}); each was converted to "
            f"grayscale, strokes {self.strokes} -> bright, and resized to "
            f"{self.image_size}x{self.image_size} (grouprep.data.images).")
