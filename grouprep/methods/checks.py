"""Config checks several methods share (each raises ConfigError)."""
from grouprep import pooling
from grouprep.errors import ConfigError


def pools_only_at_evaluation(config) -> None:
  """A method whose loss pools nothing: its groups are pooled only at
  evaluation, so a learned pooling would never be trained."""
  if config.loss.pooling in pooling.LEARNED:
    raise ConfigError(
        f"config.loss.pooling={config.loss.pooling!r} is learned, but "
        f"loss.name={config.loss.name!r} pools no groups in its loss, so it "
        f"would never be trained; choose one of "
        f"{sorted(set(pooling.POOLINGS) - set(pooling.LEARNED))}.")


def similarity_unused(config, why: str) -> None:
  """A method whose loss fixes its own similarity: only the default
  "cosine" is accepted, so a config never asks for one it does not get."""
  if config.loss.similarity != "cosine":
    raise ConfigError(
        f"config.loss.similarity={config.loss.similarity!r} has no effect on "
        f"loss.name={config.loss.name!r} ({why}); leave it at 'cosine'.")


def batch_candidates_only(config) -> None:
  """loss.candidates="prototypes" is the group-contrastive losses' option."""
  if config.loss.candidates != "batch":
    raise ConfigError(
        f"config.loss.candidates={config.loss.candidates!r} applies to "
        f"loss.name='group_item' / 'group_group' only; loss.name="
        f"{config.loss.name!r} takes 'batch'.")
