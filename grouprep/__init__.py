"""grouprep: learning embeddings of groups of data points (JAX/Flax).

  enc = grouprep.load(workdir)            # a trained encoder (grouprep.api)
  grouprep.note_metric(groups, labels)    # the note's metric of groups

`import grouprep` stays cheap: `load` and `note_metric` import JAX and the
rest of the package on first use.
"""

__version__ = "0.1.0"
__all__ = ["load", "note_metric"]


def __getattr__(name):
  if name in __all__:
    from grouprep import api  # pylint: disable=g-import-not-at-top
    return getattr(api, name)
  raise AttributeError(f"module 'grouprep' has no attribute {name!r}")
