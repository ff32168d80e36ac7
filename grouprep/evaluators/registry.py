"""The evaluators by name, as `config.evals` lists them.

An evaluator has run_split(encoder, split) -> dict, merged into
metrics.json's eval.<split> for each split whose spec lists it
(data/splits.py), and/or run_encoder(encoder) -> dict, merged into eval
once per encoder. encoder: common.EncoderView; split: common.SplitView.
Add one by writing a module with those functions and naming it here.
"""
import dataclasses
from typing import Callable, Optional

from grouprep.evaluators import disjoint_characters
from grouprep.evaluators import distance
from grouprep.evaluators import fewshot
from grouprep.evaluators import item_to_group
from grouprep.evaluators import lake
from grouprep.evaluators import retrieval
from grouprep.evaluators import theorem1


@dataclasses.dataclass(frozen=True)
class Evaluator:
  run_split: Optional[Callable] = None
  run_encoder: Optional[Callable] = None
  scalars: Optional[Callable] = None  # result -> {name: float}, for eval_log


EVALUATORS = {
    "distance": Evaluator(distance.run_split,
                          scalars=lambda r: {"ratio": r["distance"]["ratio"]}),
    "retrieval": Evaluator(retrieval.run_split),
    "item_to_group": Evaluator(item_to_group.run_split),
    "theorem1": Evaluator(theorem1.run_split, theorem1.run_encoder),
    "disjoint_characters": Evaluator(disjoint_characters.run_split,
                                     scalars=disjoint_characters.scalars),
    "fewshot": Evaluator(fewshot.run_split, scalars=fewshot.scalars),
    "lake": Evaluator(run_encoder=lake.run_encoder),
}
