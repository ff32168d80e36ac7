"""Prototypical Networks (Snell et al., 2017) as a group-item loss.

An N-way K-shot episode is a C x 2 x M batch: view a of class c is its support
set, view b its queries (and, symmetrically, the other way round). The class
prototype is the centroid of the support embeddings and each query is scored by
-||query - prototype||^2: exactly group_item_infonce with centroid pooling and
squared-Euclidean similarity (temperature 1), which `validate` enforces.
"""
import dataclasses

from grouprep.methods import checks
from grouprep.methods import group_contrastive
from grouprep.errors import ConfigError
from grouprep.methods.interface import Method


def validate(config) -> None:
  if (config.loss.pooling, config.loss.similarity) != ("centroid",
                                                       "neg_sq_euclidean"):
    raise ConfigError(
        f"loss.name='protonet' is group_item with loss.pooling='centroid' and "
        f"loss.similarity='neg_sq_euclidean'; got config.loss.pooling="
        f"{config.loss.pooling!r}, config.loss.similarity="
        f"{config.loss.similarity!r}.")
  checks.batch_candidates_only(config)  # ProtoNet's prototypes: the support
  group_contrastive.validate(config)


def make(cfg) -> Method:
  return dataclasses.replace(group_contrastive.make_group_item(cfg),
                             validate=validate)
