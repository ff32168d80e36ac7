"""Files that live beside the checkout in `shared/` (never copied into git)."""
import os
from typing import Optional

from grouprep import errors


def find(relative: str, explicit: Optional[str], field: str,
         data_dir: Optional[str] = None) -> Optional[str]:
  """`explicit` (config.<field>) if set, else `shared/<relative>` beside the
  checkout, the working directory or the TFDS data dir; None if absent."""
  if explicit:
    if not os.path.exists(explicit):
      raise errors.ConfigError(f"config.{field}={explicit!r} does not exist.")
    return explicit
  roots = [os.path.join(os.path.dirname(__file__), "..", "..", ".."),
           os.path.join(os.getcwd(), "..")]
  tfds_dir = data_dir or os.environ.get("TFDS_DATA_DIR")
  if tfds_dir:
    roots.append(os.path.join(tfds_dir, "..", ".."))
  for root in roots:
    path = os.path.normpath(os.path.join(root, "shared", relative))
    if os.path.exists(path):
      return path
  return None
