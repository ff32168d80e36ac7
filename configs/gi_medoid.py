"""Group-item InfoNCE, medoid groups (seed eq. 3): the note's 4th configuration."""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_medoid"
  config.loss.name = "group_item"
  config.loss.pooling = "medoid"
  return config
