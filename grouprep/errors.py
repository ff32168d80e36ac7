"""Errors that end a run with one message naming the cause (main prints it)."""


class ConfigError(ValueError):
  """A config field has a value grouprep cannot run."""


class DataError(RuntimeError):
  """A dataset cannot be found, prepared or read (Omniglot through TFDS, a
  folder tree or a CSV manifest)."""
