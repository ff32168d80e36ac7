"""Group-item InfoNCE, centroid groups (seed eq. 3): the note's 2nd configuration.

Classes are background alphabets, groups their rotated copies (0/90/180/270);
each item of rotation a is pulled to the centroid of rotation b of its alphabet
and pushed from the centroids of the other alphabets in the batch.
"""
from configs import base


def get_config(arg=None):
  config = base.get_base_config(arg)
  config.name = "gi_centroid"
  config.loss.name = "group_item"
  config.loss.pooling = "centroid"
  return config
