"""Errors that end a run with one message naming the cause (main prints it)."""


class ConfigError(ValueError):
  """A config field has a value grouprep cannot run."""
