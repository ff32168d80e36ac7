"""Group-group InfoNCE, centroid groups (seed eq. 2): the note's 1st configuration."""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gg_centroid"
  config.loss.name = "group_group"
  config.loss.pooling = "centroid"
  return config
