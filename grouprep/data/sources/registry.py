"""The data sources by name: the one place config.data.source is read.

  source = registry.get(config.data, config.seed)   # a Source (interface.py)

A project adds a dataset by writing a Source and registering it
(`register("mine", MySource)`, then `config.data.source = "mine"`); nothing
else in grouprep names a source.
"""
from typing import Callable, Dict, Tuple

from grouprep.data.sources import interface
from grouprep.data.sources import labelled
from grouprep.data.sources import omniglot
from grouprep.data.sources import vinyals
from grouprep.errors import ConfigError


def _named(name: str, cls) -> Callable:
  """A factory (data_config, seed) -> Source of class cls called `name`."""
  return type(cls.__name__, (cls,), {"name": name})


SOURCES: Dict[str, Callable[..., interface.Source]] = {
    "omniglot": _named("omniglot", omniglot.OmniglotSource),
    "vinyals": _named("vinyals", vinyals.VinyalsSource),
    "folder": _named("folder", labelled.LabelledSource),
    "csv": _named("csv", labelled.CsvSource),
}


def register(name: str, source_class) -> None:
  """Makes data.source=name build source_class(data_config, seed)."""
  SOURCES[name] = _named(name, source_class)


def names() -> Tuple[str, ...]:
  return tuple(SOURCES)


def name_of(data_config) -> str:
  """The source config.data asks for: data.source, where Omniglot read
  through the Vinyals split (data.train_split vinyals_*) is "vinyals"
  (data.source stays "omniglot", the name its checkpoints record)."""
  name = data_config.get("source", "omniglot")
  if name == "omniglot" and data_config.get("train_split") in \
      vinyals.TRAIN_SPLITS:
    return "vinyals"
  return name


def get(data_config, seed: int) -> interface.Source:
  """The Source of config.data (reads no data); a ConfigError naming
  data.source when no source has that name."""
  name = name_of(data_config)
  if name not in SOURCES:
    raise ConfigError(f"config.data.source={name!r} is not one of "
                      f"{sorted(SOURCES)}.")
  return SOURCES[name](data_config, seed)
