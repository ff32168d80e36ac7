"""Errors that end a run with one message naming the cause.

Every error a user can fix (a config field, a dataset, a checkpoint, a
batch shape, a diverging run) derives from GroupRepError, the one class
`main` catches and prints; anything else is a bug and keeps its traceback.
"""
from typing import Optional


class GroupRepError(Exception):
  """An error whose message says what was wrong and what to do.

  `finding` is what was wrong alone: a caller that acts on the error itself
  (a sweep moving a run aside) reports it without advice meant for a user.
  Only raise sites that pass `advice` apart keep it out of `finding` (the
  checkpoint's identity checks); elsewhere the message is the finding.
  """

  def __init__(self, finding: str, advice: str = ""):
    super().__init__(f"{finding} {advice}" if advice else finding)
    self.finding = finding


class ConfigError(GroupRepError, ValueError):
  """A config field has a value grouprep cannot run."""


class DataError(GroupRepError, RuntimeError):
  """A dataset cannot be found, prepared or read (Omniglot through TFDS, a
  folder tree or a CSV manifest)."""


class CheckpointError(GroupRepError, RuntimeError):
  """A checkpoint is missing, unreadable or from another configuration."""


class BatchShapeError(GroupRepError, ValueError):
  """The requested C x V x M batch cannot be drawn from the groups."""


class NonFiniteLossError(GroupRepError, FloatingPointError):
  """The training loss became NaN or infinite (by `step`, where known)."""

  def __init__(self, message: str, step: Optional[int] = None):
    super().__init__(message)
    self.step = step
