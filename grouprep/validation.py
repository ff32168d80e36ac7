"""Config checks that run before any data is read or any step is compiled.

Each raises errors.ConfigError naming the field. Field-level checks are
here; what a method cannot run is its own `Method.validate`.
"""
import os

import ml_collections

from grouprep import losses
from grouprep import models
from grouprep import platform
from grouprep import pooling
from grouprep.data import groups as groups_lib
from grouprep.data import images as images_lib
from grouprep.data import sampler
from grouprep.data import splits
from grouprep.errors import ConfigError
from grouprep.evaluators.registry import EVALUATORS
from grouprep.methods.registry import METHODS
from grouprep.methods.registry import get_method

# Drawings per Omniglot character (every character has 20).
DRAWINGS_PER_CHARACTER = 20


def _choice(value, choices, field):
  if value not in choices:
    raise ConfigError(f"config.{field}={value!r} is not one of "
                      f"{sorted(choices)}.")


def _positive(value, field, kind=int):
  if not isinstance(value, kind) or isinstance(value, bool) or value <= 0:
    raise ConfigError(f"config.{field}={value!r} must be a positive "
                      f"{kind.__name__}.")


def largest_possible_group(config):
  """(size, why): an upper bound on the training groups' size that the config
  alone fixes, or (None, "") when only the data can tell (the sampler checks
  then, naming the same field)."""
  d = config.data
  if splits.trains_on_vinyals(d.train_split):
    return (d.group_size or DRAWINGS_PER_CHARACTER,
            f"the Vinyals split's groups hold data.group_size={d.group_size} "
            f"drawings (0: all {DRAWINGS_PER_CHARACTER})")
  if d.group_key == "random":
    return d.group_size, f"data.group_key='random' with data.group_size=" \
                         f"{d.group_size}"
  if d.label_key == "character":
    return DRAWINGS_PER_CHARACTER, (
        f"a character has {DRAWINGS_PER_CHARACTER} drawings per rotation")
  return None, ""


def validate(config: ml_collections.ConfigDict) -> None:
  """Raises ConfigError naming the first bad field."""
  _choice(config.loss.name, METHODS, "loss.name")
  _choice(config.loss.pooling, pooling.POOLINGS, "loss.pooling")
  _choice(config.loss.similarity, losses.SIMILARITIES, "loss.similarity")
  _choice(config.loss.get("augment", False), (False, True), "loss.augment")
  if config.loss.get("augment", False) and METHODS[config.loss.name](
      config.loss).augmentations:
    raise ConfigError(
        f"config.loss.augment=True: loss.name={config.loss.name!r} already "
        "trains on random views of each image; leave loss.augment False.")
  _choice(config.model.name, models.MODELS, "model.name")
  _choice(config.data.label_key, groups_lib.LABEL_KEYS, "data.label_key")
  _choice(config.data.group_key, groups_lib.GROUP_KEYS, "data.group_key")
  _choice(config.data.train_split, splits.TRAIN_SPLITS, "data.train_split")
  _choice(config.data.get("on_device", "auto"), sampler.ON_DEVICE,
          "data.on_device")
  _choice(config.train.optimizer, ("adam", "sgd"), "train.optimizer")
  _choice(config.train.schedule, ("constant", "cosine", "step"),
          "train.schedule")
  for field in ("train.matmul_precision", "eval.matmul_precision"):
    section, key = field.split(".")
    _choice(config[section][key], platform.PRECISIONS, field)
  for name in config.evals:
    _choice(name, EVALUATORS, "evals")
  validate_source(config)
  watched = splits.EVAL_SPLITS[splits.train_split_of(config).during_training]
  for name in config.eval.during_training:
    loggable = [n for n in EVALUATORS if EVALUATORS[n].scalars and
                n in watched.evaluators]
    _choice(name, loggable, "eval.during_training")
  for field in ("data.vinyals_dir", "eval.lake_runs"):  # data_dir: TFDS may
    # create it and prepare the dataset there.
    section, key = field.split(".")
    path = config[section][key]
    if path and not os.path.exists(path):
      raise ConfigError(f"config.{field}={path!r} does not exist.")
  for field in ("data.classes_per_batch", "data.groups_per_class",
                "data.items_per_group", "data.image_size", "model.width",
                "train.num_steps", "train.checkpoint_every", "train.log_every",
                "train.keep_checkpoints", "eval.batch_size"):
    section, key = field.split(".")
    _positive(config[section][key], field)
  for field in ("loss.temperature", "train.learning_rate"):
    section, key = field.split(".")
    _positive(float(config[section][key]), field, float)
  for field in ("eval.max_characters", "eval.theorem1_items",
                "data.group_size"):
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
  if config.num_devices:
    validate_devices(config, config.num_devices)

  # ---- Combinations of fields. ----
  if config.data.group_key == "random" and not config.data.group_size:
    raise ConfigError(
        "config.data.group_key='random' cuts each class into groups of "
        "config.data.group_size items; set it (it is 0).")
  if config.data.group_key == "charset" and (
      config.data.charsets_per_alphabet < config.data.groups_per_class):
    raise ConfigError(
        f"config.data.charsets_per_alphabet={config.data.charsets_per_alphabet}"
        f" must be >= config.data.groups_per_class="
        f"{config.data.groups_per_class} (the groups of a class are its "
        f"character sets).")
  largest, why = largest_possible_group(config)
  if largest and config.data.items_per_group > largest:
    raise ConfigError(
        f"config.data.items_per_group={config.data.items_per_group} is larger "
        f"than the training groups can be: {largest} items ({why}).")
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
  get_method(config.loss).validate(config)


def validate_source(config) -> None:
  """data.source and the fields that go with it. A folder or CSV dataset
  brings its own labels and groups: Omniglot's split, label and group
  fields keep their defaults; the evaluators that need Omniglot
  (splits.OMNIGLOT_ONLY_EVALUATORS) are skipped for it."""
  d = config.data
  source = d.get("source", "omniglot")
  _choice(source, splits.SOURCES, "data.source")
  if source == "omniglot":
    if d.train_split == "labels":
      raise ConfigError(
          "config.data.train_split='labels' is the split of a folder or CSV "
          "dataset: set config.data.source='folder' or 'csv' (and "
          "config.data.path) instead.")
    if d.get("strokes", "dark") != "dark":
      raise ConfigError(
          f"config.data.strokes={d.strokes!r} does not apply to Omniglot "
          f"(TFDS's images are decoded by their own rule; grouprep.load's "
          f"default would then read dark-stroked images inverted): leave it "
          f"'dark'.")
    return
  if not d.path:
    raise ConfigError(
        f"config.data.source={source!r} reads config.data.path (a folder "
        f"LABEL/GROUP/IMAGE, or a CSV file of path,label,group rows); set it.")
  if source == "folder" and not os.path.isdir(d.path):
    raise ConfigError(f"config.data.path={d.path!r} is not a folder "
                      f"(data.source='folder' reads PATH/LABEL/GROUP/IMAGE).")
  if source == "csv" and not os.path.isfile(d.path):
    raise ConfigError(f"config.data.path={d.path!r} is not a file "
                      f"(data.source='csv' reads path,label,group rows).")
  _choice(d.strokes, images_lib.STROKES, "data.strokes")
  for field, default, why in (
      ("train_split", "background", "Omniglot's training splits"),
      ("label_key", ("alphabet", "image"), "a dataset's labels are its LABEL "
       "folders or label column ('alphabet', the default), or every image "
       "its own class ('image')"),
      ("group_key", "rotation", "a dataset's groups are its GROUP folders "
       "or group column")):
    allowed = default if isinstance(default, tuple) else (default,)
    if d[field] not in allowed:
      raise ConfigError(
          f"config.data.{field}={d[field]!r} does not apply to "
          f"data.source={source!r} ({why}); leave it at {allowed[0]!r}.")
  if not 0.0 < d.heldout_label_fraction < 1.0:
    raise ConfigError(
        f"config.data.heldout_label_fraction={d.heldout_label_fraction} must "
        f"be in (0, 1): the held-out labels are the evaluation split of "
        f"data.source={source!r}.")
  if config.eval.every:
    raise ConfigError(
        f"config.eval.every={config.eval.every}: data.source={source!r} has "
        f"no validation split (its held-out labels are its test split, and "
        f"nothing is selected on a test split); set config.eval.every=0.")


def validate_devices(config, num_devices: int) -> None:
  """The global batch's C*V*M images split evenly over the devices (each
  device encodes C*V*M/n of them, train.train_step), and whatever the
  method needs of its share (Method.whole_groups_per_device)."""
  d = config.data
  c, v, m = d.classes_per_batch, d.groups_per_class, d.items_per_group
  shape = (f"config.data.classes_per_batch={c} x config.data.groups_per_class="
           f"{v}")
  if (c * v * m) % num_devices:
    raise ConfigError(
        f"{shape} x config.data.items_per_group={m} = {c * v * m} images per "
        f"batch is not divisible by the {num_devices} devices "
        f"(config.num_devices={config.num_devices}): each device encodes an "
        f"equal share of the batch's images.")
  if get_method(config.loss).whole_groups_per_device and (c * v) % num_devices:
    raise ConfigError(
        f"{shape} = {c * v} groups per batch is not divisible by the "
        f"{num_devices} devices (config.num_devices={config.num_devices}): "
        f"loss.name={config.loss.name!r} with loss.candidates="
        f"{config.loss.get('candidates', None)!r} pools each device's share "
        f"of the batch by group, so every device needs whole groups.")
