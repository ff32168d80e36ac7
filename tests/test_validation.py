"""Invalid combinations of config fields fail in validation, before any data
is read, with a message naming the field; and every config passes."""
import importlib
import os

import pytest

from conftest import tiny_config
from grouprep import train
from grouprep import validation

ROOT = os.path.join(os.path.dirname(__file__), "..")
CONFIGS = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "configs"))
                 if f.endswith(".py") and f not in ("__init__.py", "base.py"))


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("arg", [None, "smoke"])
def test_every_config_is_valid(name, arg):
  validation.validate(importlib.import_module(f"configs.{name}").get_config(arg))


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("arg", [None, "smoke"])
@pytest.mark.parametrize("num_devices", [1, 2, 4, 8])
def test_every_config_splits_over_1_2_4_and_8_devices(name, arg, num_devices):
  """Every shipped config trains unchanged on 1, 2, 4 and 8 devices (the
  batch's C*V*M images are split evenly, train.train_step)."""
  config = importlib.import_module(f"configs.{name}").get_config(arg)
  validation.validate_devices(config, num_devices)
  config.num_devices = num_devices
  validation.validate(config)


def _set(config, dotted, value):
  *path, key = dotted.split(".")
  section = config
  for p in path:
    section = section[p]
  section[key] = value


@pytest.mark.parametrize("name,changes,match", [
    # group_key="random" needs a group size.
    ("gi_centroid", {"data.group_key": "random"}, "data.group_size"),
    # Group-contrastive losses pair two groups of a class.
    ("gi_centroid", {"data.groups_per_class": 1}, "data.groups_per_class"),
    ("gg_medoid", {"data.groups_per_class": 1}, "data.groups_per_class"),
    ("protonet", {"data.groups_per_class": 1}, "data.groups_per_class"),
    # M larger than the training groups can be.
    ("gi_centroid", {"data.group_key": "random", "data.group_size": 3},
     "data.items_per_group"),
    ("gi_centroid", {"data.label_key": "character", "data.items_per_group": 21},
     "data.items_per_group"),
    ("protonet", {"data.items_per_group": 21}, "data.items_per_group"),
    # What a class and a group are, checked by the source that reads them
    # (Omniglot, and the Vinyals split through it); the lists' folder too.
    ("gi_centroid", {"data.label_key": "font"}, "data.label_key"),
    ("gi_centroid", {"data.group_key": "colour"}, "data.group_key"),
    ("protonet", {"data.group_key": "colour"}, "data.group_key"),
    # The Vinyals split's classes and groups are its own: no other reading.
    ("protonet", {"data.label_key": "character"}, "data.label_key"),
    ("protonet", {"data.group_key": "random"}, "data.group_key"),
    # Weight decay is AdamW's; SGD would ignore it.
    ("protonet", {"train.optimizer": "sgd", "train.weight_decay": 1e-4},
     "train.weight_decay"),
    ("protonet", {"data.vinyals_dir": "/nonexistent/vinyals"},
     "data.vinyals_dir"),
    # Omniglot's images have one stroke convention; "bright" would only
    # mislead grouprep.load's default.
    ("gi_centroid", {"data.strokes": "bright"}, "data.strokes"),
    # A pooling or similarity the method cannot use.
    ("triplet", {"loss.pooling": "attention"}, "loss.pooling"),
    ("smog", {"loss.pooling": "attention"}, "loss.pooling"),
    ("smog", {"loss.similarity": "neg_sq_euclidean"}, "loss.similarity"),
    ("groupface", {"loss.similarity": "neg_sq_euclidean"}, "loss.similarity"),
    ("group_loss", {"loss.similarity": "neg_sq_euclidean"}, "loss.similarity"),
    ("protonet", {"loss.pooling": "medoid"}, "loss.pooling"),
    ("protonet", {"loss.similarity": "cosine"}, "loss.similarity"),
    ("groupface", {"model.name": "conv4"}, "model.name"),
    # The Set Transformer's settings: heads divide the width, known blocks.
    ("gi_set_transformer", {"loss.set_transformer.heads": 3},
     "loss.set_transformer: heads=3"),
    ("gg_set_transformer", {"loss.set_transformer.block": "mlp"},
     "loss.set_transformer: block"),
    ("triplet", {"loss.pooling": "set_transformer"}, "loss.pooling"),
    # C * V * M (4 * 2 * 4) not divisible by the device count.
    ("gi_centroid", {"num_devices": 3}, "classes_per_batch"),
    ("gi_centroid", {"num_devices": 3}, "groups_per_class"),
    ("gi_centroid", {"num_devices": 3}, "items_per_group"),
    # Prototype candidates pool each device's groups: C * V = 8 groups on
    # 16 devices would cut groups (C * V * M = 32 images divide).
    ("gi_centroid_prototypes", {"num_devices": 16}, "groups_per_class"),
    # Where the training images live: auto, always or never.
    ("gi_centroid", {"data.on_device": "gpu"}, "data.on_device"),
    # Unknown evaluator names.
    ("gi_centroid", {"evals.nope": {}}, "evals.nope"),
    ("gi_centroid", {"eval.only": ("distance", "nope")}, "eval.only"),
    ("gi_centroid", {"eval.during_training.nope": {}},
     "eval.during_training.nope"),
    # One that logs nothing during training: said why.
    ("gi_centroid", {"eval.during_training.retrieval": {}},
     "during_training='retrieval' cannot run during training: its "
     "Evaluator has no `scalars`"),
    # Each evaluator's own settings: exactly its fields, in range.
    ("gi_centroid", {"evals.fewshot.episode": 3}, "evals.fewshot"),
    ("gi_centroid", {"evals.fewshot.queries": 0}, "evals.fewshot.queries"),
    ("gi_centroid", {"eval.during_training.fewshot.episodes": 0},
     "eval.during_training.fewshot.episodes"),
    ("gi_centroid", {"evals.theorem1.sampled_items": -1},
     "evals.theorem1.sampled_items"),
    ("gi_centroid", {"evals.disjoint_characters.charsets_per_alphabet": 1},
     "evals.disjoint_characters.charsets_per_alphabet"),
    ("gi_centroid", {"evals.disjoint_characters.resamples": 1},
     "evals.disjoint_characters.resamples"),
    ("gi_centroid", {"evals.disjoint_characters.size_curve": (1, -2)},
     "evals.disjoint_characters.size_curve"),
    ("gi_centroid", {"evals.lake.runs": "/nonexistent/all_runs.zip"},
     "evals.lake.runs"),
    # A split its data source does not evaluate.
    ("gi_centroid", {"eval.splits": ("vinyals_test",)}, "eval.splits"),
])
def test_invalid_combinations_are_named_before_any_data(name, changes, match,
                                                        tmp_path, monkeypatch):
  from grouprep.data.sources import omniglot as omniglot_source  # pylint: disable=g-import-not-at-top

  def no_data(*args, **kwargs):
    raise AssertionError("data were read before the config was validated")

  monkeypatch.setattr(omniglot_source, "load", no_data)
  config = tiny_config(name)
  for field, value in changes.items():
    _set(config, field, value)
  with pytest.raises(validation.ConfigError, match=match):
    validation.validate(config)
  with pytest.raises(validation.ConfigError, match=match):
    train.train(config, str(tmp_path))
  assert not os.path.exists(tmp_path / "checkpoints")


@pytest.mark.multi_device
def test_batch_not_divisible_by_the_resolved_devices(tmp_path, monkeypatch):
  """num_devices=0 resolves to 2 CPU devices here: C*V*M = 3*3*1 = 9 images
  are refused by train before any data is read."""
  from grouprep.data.sources import omniglot as omniglot_source  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(omniglot_source, "load", lambda *a, **k: 1 / 0)
  config = tiny_config()
  config.data.classes_per_batch = config.data.groups_per_class = 3
  config.data.items_per_group = 1
  validation.validate(config)  # the device count is not known yet
  with pytest.raises(validation.ConfigError, match="classes_per_batch"):
    train.train(config, str(tmp_path))


@pytest.mark.parametrize("name,hint", [("gi_centroid", "':smoke' or none"),
                                       ("protonet", "':smoke', ':final' or")])
def test_an_unknown_config_argument_names_the_ones_there_are(name, hint):
  with pytest.raises(ValueError, match=f"'finl'; use {hint}"):
    importlib.import_module(f"configs.{name}").get_config("finl")
