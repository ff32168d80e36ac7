"""Config checks that run before any data is read or any step is compiled.

Each raises errors.ConfigError naming the field. Field-level checks are
here; what a method cannot run is its own `Method.validate`.
"""

import ml_collections

from grouprep import losses
from grouprep import models
from grouprep import platform
from grouprep import pooling
from grouprep.data import sampler
from grouprep.data.sources import registry as sources
from grouprep.errors import ConfigError
from grouprep.evaluators.registry import EVALUATORS
from grouprep.methods.registry import METHODS
from grouprep.methods.registry import get_method


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
  _choice(config.data.get("on_device", "auto"), sampler.ON_DEVICE,
          "data.on_device")
  _choice(config.train.optimizer, ("adam", "sgd"), "train.optimizer")
  if config.train.optimizer == "sgd" and config.train.weight_decay:
    raise ConfigError(
        f"config.train.weight_decay={config.train.weight_decay!r} is read "
        "by optimizer='adam' alone (AdamW); with 'sgd' leave it 0.")
  _choice(config.train.schedule, ("constant", "cosine", "step"),
          "train.schedule")
  for field in ("train.matmul_precision", "eval.matmul_precision"):
    section, key = field.split(".")
    _choice(config[section][key], platform.PRECISIONS, field)
  validate_evals(config.evals, "evals")
  for name in config.eval.get("only", ()):
    _choice(name, list(config.evals), "eval.only")
  source = validate_source(config)
  for name in config.eval.get("splits", ()):
    _choice(name, list(source.eval_splits), "eval.splits")
  validate_evals(config.eval.during_training, "eval.during_training")
  if source.validation_split:
    offers = (set(source.offers) |
              set(source.splits[source.validation_split].offers))
    loggable = [n for n, ev in EVALUATORS.items()
                if ev.scalars and not ev.missing(offers)]
    for name in config.eval.during_training:
      ev = EVALUATORS.get(name)
      if ev is not None and name not in loggable:
        why = ("its Evaluator has no `scalars` (result -> {name: float}, "
               "the numbers eval_log.jsonl logs; docs/extending.md"
               "#an-evaluator)" if not ev.scalars else
               f"the validation split {source.validation_split!r} does not "
               f"offer what it needs: {', '.join(ev.missing(offers))}")
        raise ConfigError(
            f"config.eval.during_training={name!r} cannot run during "
            f"training: {why}. Loggable here: {sorted(loggable)}.")
      _choice(name, loggable, "eval.during_training")
  for field in ("data.classes_per_batch", "data.groups_per_class",
                "data.items_per_group", "data.image_size", "model.width",
                "train.num_steps", "train.checkpoint_every", "train.log_every",
                "train.keep_checkpoints", "eval.batch_size"):
    section, key = field.split(".")
    _positive(config[section][key], field)
  for field in ("loss.temperature", "train.learning_rate"):
    section, key = field.split(".")
    _positive(float(config[section][key]), field, float)
  for field in ("eval.max_characters", "data.group_size"):
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
  method = get_method(config.loss)
  if method.pooling is not None and method.pooling != config.loss.pooling:
    raise ConfigError(
        f"config.loss.pooling={config.loss.pooling!r}, but "
        f"loss.name={config.loss.name!r} pools its groups with "
        f"{method.pooling!r} in its loss; evaluation pools with "
        "config.loss.pooling, so it would measure groups the method never "
        f"trained. Set config.loss.pooling={method.pooling!r}.")
  method.validate(config)


def validate_evals(evals, field: str) -> None:
  """An evaluation instance ({name: settings}: config.evals, or
  config.eval.during_training): known evaluators, each with exactly its
  settings (Evaluator.settings), checked by the evaluator."""
  if not isinstance(evals, ml_collections.ConfigDict):
    raise ConfigError(
        f"config.{field}={evals!r} must map evaluator names to their "
        f"settings (a ConfigDict: config.{field}.fewshot = dict(episodes="
        f"1000, queries=5)).")
  for name in evals:
    if name not in EVALUATORS:
      raise ConfigError(f"config.{field}.{name}: {name!r} is not one of "
                        f"{sorted(EVALUATORS)} (evaluators/registry.py).")
    ev, settings = EVALUATORS[name], evals[name]
    fields = set(settings) if isinstance(
        settings, ml_collections.ConfigDict) else None
    if fields != set(ev.settings):
      raise ConfigError(
          f"config.{field}.{name} holds the settings {sorted(fields or ())};"
          f" the {name} evaluator takes exactly {sorted(ev.settings)}.")
    ev.validate(settings, f"{field}.{name}")


def validate_source(config):
  """data.source and the fields that go with it, by the source itself
  (data/sources/); returns the source. A source without "strokes" reads
  its images by its own rule (data.strokes stays "dark"); one without a
  validation split refuses the evaluation during training."""
  source = sources.get(config.data, config.seed)
  source.validate()
  strokes = config.data.get("strokes", "dark")
  if strokes != "dark" and "strokes" not in source.offers:
    raise ConfigError(
        f"config.data.strokes={strokes!r} does not apply to data.source="
        f"{source.name!r} (its images are decoded by their own rule; "
        f"grouprep.load's default would then read dark-stroked images "
        f"inverted): leave it 'dark'.")
  if config.eval.every and not source.validation_split:
    raise ConfigError(
        f"config.eval.every={config.eval.every}: data.source="
        f"{source.name!r} has no validation split "
        f"({source.no_validation_split}); set config.eval.every=0.")
  return source


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
