"""Group-group InfoNCE, medoid groups (seed eq. 2): the note's 3rd configuration."""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gg_medoid"
  config.loss.name = "group_group"
  config.loss.pooling = "medoid"
  return config
