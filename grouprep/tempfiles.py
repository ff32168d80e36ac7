"""Files written under a temporary name beside their destination, then
renamed into place (the rename is atomic on one file system), so a failure
never leaves a half-written destination.

A temporary name says which host and process write it, NAME.HOST.PID.tmp
(hidden: .NAME.HOST.PID.tmp), so that the next start removes what a killed
process of this host left (`remove_stale`) and never a running one's.
"""
import glob
import re
import os
import socket
from typing import List, Optional


def _host() -> str:
  return socket.gethostname().replace(os.sep, "_") or "localhost"


def temporary_path(final: str, hidden: bool = False,
                   pid: Optional[int] = None) -> str:
  """The temporary name for `final` of process `pid` (default: this one)
  of this host, in the same folder."""
  folder, name = os.path.split(final)
  return os.path.join(folder, f"{'.' if hidden else ''}{name}.{_host()}."
                              f"{os.getpid() if pid is None else pid}.tmp")


def create(final: str, hidden: bool = False) -> str:
  """Creates this process's empty temporary file for `final` and returns
  its path; its permissions are a normal new file's (0666 less the umask),
  so the renamed result is too. OSError when the folder is not writable."""
  path = temporary_path(final, hidden)
  fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
  os.close(fd)
  return path


def _alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True  # another user's process
  return True


def remove_stale(folder: str, pattern: str, hidden: bool = False) -> List[str]:
  """Removes the temporary files in `folder` of destinations matching the
  glob `pattern` (glob.escape a literal name) that a process of this host
  left and that no longer runs; returns their paths."""
  prefix = "." if hidden else ""
  host = glob.escape(_host())
  removed = []
  for path in glob.glob(os.path.join(glob.escape(folder),
                                     f"{prefix}{pattern}.{host}.*.tmp")):
    # Exactly HOST.PID.tmp: the glob's * also matches a host whose name
    # starts with "HOST." (its PIDs mean nothing here).
    tail = os.path.basename(path).rpartition(f".{_host()}.")[2]
    found = re.fullmatch(r"(\d+)\.tmp", tail)
    if not found:
      continue
    pid = found.group(1)
    if int(pid) == os.getpid() or _alive(int(pid)):
      continue
    try:
      os.remove(path)
    except FileNotFoundError:
      continue  # another process removed it first
    removed.append(path)
  return removed
