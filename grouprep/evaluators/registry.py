"""The evaluators by name, as `config.evals` names them (with their
settings: config.evals.NAME; the evaluation during training has its own,
config.eval.during_training.NAME).

An evaluator declares what it needs of the data (`needs`, capabilities of
data/sources/interface.py): it runs where the source and the split offer
them, and is skipped, with the source's reason in metrics.json, where the
source offers them on none of its splits. It has run_split(encoder, split,
settings) -> dict, merged into metrics.json's eval.<split> for each split
that offers what it needs; and/or run_encoder(encoder, settings) -> dict,
merged into eval once per encoder; and/or run_data(inputs, settings) ->
dict, merged into metrics.json's top level once (what does not depend on
the encoder). encoder: common.EncoderView; split: common.SplitView;
settings: its config.evals entry, whose fields are `settings` and which
validate(settings, field) checks. Add one by writing a module with those
functions and naming it here (and its settings in configs/base.py).
"""
import dataclasses
from typing import Callable, Optional, Tuple

from grouprep.evaluators import disjoint_characters
from grouprep.evaluators import distance
from grouprep.evaluators import fewshot
from grouprep.evaluators import item_to_group
from grouprep.evaluators import lake
from grouprep.evaluators import retrieval
from grouprep.evaluators import theorem1


def _no_checks(settings, field):
  del settings, field


@dataclasses.dataclass(frozen=True)
class Evaluator:
  needs: Tuple[str, ...]
  run_split: Optional[Callable] = None
  run_encoder: Optional[Callable] = None
  run_data: Optional[Callable] = None
  scalars: Optional[Callable] = None  # result -> {name: float}, for eval_log
  settings: Tuple[str, ...] = ()
  validate: Callable = _no_checks

  def missing(self, offers) -> Tuple[str, ...]:
    """What it needs that `offers` (capabilities) lacks."""
    return tuple(n for n in self.needs if n not in offers)


# In the order they run (and write metrics.json).
EVALUATORS = {
    "distance": Evaluator(("group_labels",), distance.run_split,
                          scalars=lambda r: {"ratio": r["distance"]["ratio"]}),
    "retrieval": Evaluator(("group_labels",), retrieval.run_split),
    "item_to_group": Evaluator(("group_labels",), item_to_group.run_split),
    "theorem1": Evaluator(("group_labels", "train_characters"),
                          theorem1.run_split, theorem1.run_encoder,
                          settings=theorem1.SETTINGS,
                          validate=theorem1.validate),
    "disjoint_characters": Evaluator(
        ("characters",), disjoint_characters.run_split,
        scalars=disjoint_characters.scalars,
        settings=disjoint_characters.SETTINGS,
        validate=disjoint_characters.validate),
    "fewshot": Evaluator(("classes",), fewshot.run_split,
                         scalars=fewshot.scalars, settings=fewshot.SETTINGS,
                         validate=fewshot.validate),
    "lake": Evaluator(("lake_runs",), run_encoder=lake.run_encoder,
                      run_data=lake.run_data, settings=lake.SETTINGS,
                      validate=lake.validate),
}


def in_order(names):
  """The evaluators of `names` in the order of EVALUATORS."""
  return [n for n in EVALUATORS if n in names]
