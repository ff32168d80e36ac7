"""Prototypical Networks (Snell et al., 2017) as a group-item loss.

An N-way K-shot episode is a C x 2 x M batch: view a of class c is its support
set, view b its queries (and, symmetrically, the other way round). The class
prototype is the centroid of the support embeddings and each query is scored by
-||query - prototype||^2: exactly group_item_infonce with centroid pooling and
squared-Euclidean similarity (temperature 1). validation.py enforces that.
"""
from grouprep.methods import group_contrastive


def make(cfg):
  return group_contrastive.make_group_item(cfg)
