"""Config checks that run before any data is read or any step is compiled."""
import ml_collections

from grouprep import losses
from grouprep import methods
from grouprep import models
from grouprep import pooling
from grouprep.data import groups as groups_lib


class ConfigError(ValueError):
  """A config field has a value grouprep cannot run."""


def _choice(value, choices, field):
  if value not in choices:
    raise ConfigError(f"config.{field}={value!r} is not one of "
                      f"{sorted(choices)}.")


def _positive(value, field, kind=int):
  if not isinstance(value, kind) or isinstance(value, bool) or value <= 0:
    raise ConfigError(f"config.{field}={value!r} must be a positive "
                      f"{kind.__name__}.")


def validate(config: ml_collections.ConfigDict) -> None:
  """Raises ConfigError naming the first bad field."""
  _choice(config.loss.name, methods.METHODS, "loss.name")
  _choice(config.loss.pooling, pooling.POOLINGS, "loss.pooling")
  _choice(config.loss.similarity, losses.SIMILARITIES, "loss.similarity")
  _choice(config.model.name, models.MODELS, "model.name")
  _choice(config.data.label_key, groups_lib.LABEL_KEYS, "data.label_key")
  _choice(config.data.group_key, groups_lib.GROUP_KEYS, "data.group_key")
  _choice(config.data.train_split, ("background", "vinyals_train",
                                    "vinyals_trainval"), "data.train_split")
  _choice(config.train.optimizer, ("adam", "sgd"), "train.optimizer")
  _choice(config.train.schedule, ("constant", "cosine", "step"),
          "train.schedule")
  for field in ("data.classes_per_batch", "data.groups_per_class",
                "data.items_per_group", "data.image_size", "model.width",
                "train.num_steps", "train.checkpoint_every", "train.log_every",
                "train.keep_checkpoints", "eval.batch_size"):
    section, key = field.split(".")
    _positive(config[section][key], field)
  for field in ("loss.temperature", "train.learning_rate"):
    section, key = field.split(".")
    _positive(float(config[section][key]), field, float)
  for field in ("eval.max_characters", "eval.theorem1_items"):
    section, key = field.split(".")
    if not isinstance(config[section][key], int) or config[section][key] < 0:
      raise ConfigError(f"config.{field}={config[section][key]!r} must be an "
                        f"integer >= 0 (0: all).")
  if config.eval.max_characters and config.eval.max_characters < 20:
    raise ConfigError(f"config.eval.max_characters={config.eval.max_characters}"
                      f" must be 0 (all) or >= 20 for 20-way episodes.")
  if not 0.0 <= config.data.heldout_fraction < 1.0:
    raise ConfigError(f"config.data.heldout_fraction="
                      f"{config.data.heldout_fraction} must be in [0, 1).")
  if not isinstance(config.num_devices, int) or config.num_devices < 0:
    raise ConfigError(f"config.num_devices={config.num_devices!r} must be an "
                      f"integer >= 0 (0: 2 on CPU, every accelerator).")
  if config.num_devices and config.data.classes_per_batch % config.num_devices:
    raise ConfigError(
        f"config.data.classes_per_batch={config.data.classes_per_batch} is not "
        f"divisible by config.num_devices={config.num_devices}.")
  if config.data.group_key == "charset" and (
      config.data.charsets_per_alphabet < config.data.groups_per_class):
    raise ConfigError(
        f"config.data.charsets_per_alphabet={config.data.charsets_per_alphabet}"
        f" must be >= config.data.groups_per_class="
        f"{config.data.groups_per_class} (the groups of a class are its "
        f"character sets).")
  if config.eval.charsets_per_alphabet < 2:
    raise ConfigError(f"config.eval.charsets_per_alphabet="
                      f"{config.eval.charsets_per_alphabet} must be >= 2 (a "
                      f"group needs a same-alphabet group to be compared with).")
  if config.eval.size_curve_resamples < 2:
    raise ConfigError(f"config.eval.size_curve_resamples="
                      f"{config.eval.size_curve_resamples} must be >= 2 (the "
                      f"curve reports a spread).")
  if not all(isinstance(n, int) and n >= 0 for n in config.eval.size_curve):
    raise ConfigError(f"config.eval.size_curve={config.eval.size_curve!r} must "
                      f"hold integers >= 0 (0: every drawing).")
  if config.loss.name == "protonet" and (
      config.loss.pooling, config.loss.similarity) != ("centroid",
                                                        "neg_sq_euclidean"):
    raise ConfigError(
        f"loss.name='protonet' is group_item with loss.pooling='centroid' and "
        f"loss.similarity='neg_sq_euclidean'; got config.loss.pooling="
        f"{config.loss.pooling!r}, config.loss.similarity="
        f"{config.loss.similarity!r}.")
  if config.loss.name in ("group_item", "group_group", "protonet") and \
      config.data.groups_per_class < 2:
    raise ConfigError("config.data.groups_per_class must be >= 2 for "
                      f"loss.name={config.loss.name!r} (it pairs two groups).")
