"""From a config to the arrays and groups that training and evaluation read:
Omniglot through TFDS (data.source="omniglot"), or a folder or CSV dataset
(data.source="folder" | "csv", data.path; folder.py)."""
from typing import Dict, Optional, Tuple

import numpy as np

from grouprep.data import folder
from grouprep.data import groups as groups_lib
from grouprep.data import omniglot
from grouprep.data import sampler as sampler_lib
from grouprep.data import splits
from grouprep.data import vinyals
from grouprep.errors import DataError


def load(config, split: str) -> omniglot.OmniglotSplit:
  d = config.data
  return omniglot.load_split(split, image_size=d.image_size,
                             data_dir=d.data_dir, cache_dir=d.cache_dir,
                             download=d.download)


def load_labelled(config) -> folder.LabelledImages:
  """The folder or CSV dataset of config.data, decoded once to disk."""
  d = config.data
  return folder.load(d.source, d.path, image_size=d.image_size,
                     strokes=d.strokes, cache_dir=d.cache_dir)


def heldout_labels_mask(config, data: folder.LabelledImages) -> np.ndarray:
  """[N] bool: the images of the held-out labels (the evaluation split)."""
  return groups_lib.heldout_label_mask(
      data.label, config.data.heldout_label_fraction, config.seed)


def _check_labels(config, data: folder.LabelledImages,
                  held: np.ndarray) -> None:
  """What the sampler and the note's metric need of a folder / CSV dataset,
  as a DataError naming the labels and the fields."""
  from grouprep.methods.registry import get_method  # pylint: disable=g-import-not-at-top
  d, names = config.data, data.label_names
  where = f"{d.source} dataset {d.path}"
  groups_of = np.bincount(
      np.unique(np.stack([data.label, data.group]), axis=1)[0],
      minlength=len(names))
  held_labels = np.unique(data.label[held])
  if len(held_labels) < 2:
    raise DataError(
        f"The {where} has {len(names)} label(s); evaluation holds out at "
        f"least 2 of them (data.heldout_label_fraction="
        f"{d.heldout_label_fraction}) and training needs the others: give it "
        f"at least 3 labels.")
  if d.label_key != "image":
    training = len(names) - len(held_labels)
    if training < d.classes_per_batch:
      raise DataError(
          f"The {where} has {len(names)} labels; {len(held_labels)} are held "
          f"out for evaluation (data.heldout_label_fraction="
          f"{d.heldout_label_fraction}), leaving {training} for training, "
          f"fewer than config.data.classes_per_batch={d.classes_per_batch}: "
          f"lower data.classes_per_batch or add labels.")
  method = get_method(config.loss)
  need = max(2, d.groups_per_class)
  if method.pools_in_loss and d.label_key != "image":
    trained = np.setdiff1d(np.arange(len(names)), held_labels)
    few = [f"{names[k]!r} ({groups_of[k]} group(s))" for k in trained
           if groups_of[k] < need]
    if few:
      raise DataError(
          f"In the {where}, label(s) {folder.first_few(few)} have fewer than "
          f"{need} groups: loss.name={config.loss.name!r} contrasts "
          f"data.groups_per_class={d.groups_per_class} groups of a label "
          f"(and the note's metric compares groups of one label); give "
          f"each label at least {need} groups, or remove it.")
  if not (groups_of[held_labels] >= 2).any():
    raise DataError(
        f"In the {where}, every held-out label has a single group, so the "
        f"note's metric has no same-label pair: give the labels at least 2 "
        f"groups.")


def dataset_summary(config, data=None) -> Dict:
  """What a checkpoint records of its training data (checkpoint metadata),
  so that evaluation and resuming can tell the dataset changed: the source,
  and for a folder / CSV dataset its labels and which were held out."""
  if config.data.get("source", "omniglot") == "omniglot":
    return {"source": "omniglot"}
  data = data if data is not None else load_labelled(config)
  held = np.unique(data.label[heldout_labels_mask(config, data)])
  return {"source": config.data.source, "path": config.data.path,
          "num_images": len(data), "num_groups": len(data.group_names),
          "labels": list(data.label_names),
          "heldout_labels": [data.label_names[k] for k in held]}


def class_labels(data: omniglot.OmniglotSplit, label_key: str) -> np.ndarray:
  if label_key == "image":  # every image its own class: unsupervised methods
    return np.arange(len(data), dtype=np.int32)
  return {"alphabet": data.alphabet, "character": data.character}[label_key]


def heldout_mask(config, data: omniglot.OmniglotSplit) -> np.ndarray:
  return groups_lib.heldout_character_mask(
      data.alphabet, data.character, config.data.heldout_fraction, config.seed)


def make_groups(config, data, images: np.ndarray) -> groups_lib.Groups:
  d = config.data
  # Character-set groups are the disjoint-character protocol's: upright only.
  rotations = (0,) if d.group_key == "charset" else (0, 1, 2, 3)
  return groups_lib.build_groups(
      class_labels(data, d.label_key), images, group_key=d.group_key,
      rotations=rotations, group_size=d.group_size, seed=config.seed,
      characters=data.character, charsets=d.charsets_per_alphabet)


def trained_alphabets(config, data) -> np.ndarray:
  """Alphabet ids any of whose characters the training split holds: the
  Vinyals split's trainval spans 8 of the 20 evaluation alphabets."""
  spec = splits.TRAIN_SPLITS[config.data.train_split]
  if not spec.vinyals_file:
    return np.arange(len(data.alphabet_names))[:0]
  names = {e[0] for e in vinyals.read_split(config, spec.vinyals_file)}
  return np.array([i for i, n in enumerate(data.alphabet_names) if n in names],
                  np.int64)


def load_all(config) -> omniglot.OmniglotSplit:
  """Both TFDS splits as one (the Vinyals split spans all 50 alphabets)."""
  return vinyals.combine(load(config, "train"), load(config, "test"))


def train_groups(config) -> Tuple[omniglot.OmniglotSplit, groups_lib.Groups]:
  """The training data and its groups, by config.data.train_split:

  "background": the 30 background alphabets minus the held-out characters,
  grouped by config.data.label_key / group_key (the note's experiment);
  "vinyals_train" / "vinyals_trainval": the Vinyals split's (character,
  rotation) classes, each cut into groups of data.group_size drawings;
  a folder / CSV dataset (split "labels"): the images of its labels less the
  held-out ones, in the dataset's groups.
  """
  if splits.train_split_name(config.data) == "labels":
    data = load_labelled(config)
    held = heldout_labels_mask(config, data)
    _check_labels(config, data, held)
    keep = np.flatnonzero(~held)
    return data, groups_lib.given_groups(
        class_labels(data, config.data.label_key), data.group, keep)
  spec = splits.TRAIN_SPLITS[config.data.train_split]
  if spec.vinyals_file:
    data = load_all(config)
    entries = vinyals.read_split(config, spec.vinyals_file)
    return data, vinyals.class_groups(data, entries, config.data.group_size,
                                      config.seed)
  data = load(config, "train")
  keep = np.flatnonzero(~heldout_mask(config, data))
  return data, make_groups(config, data, keep)


def dropped_classes_note(config, data,
                         sampler: sampler_lib.Sampler) -> Optional[str]:
  """A one-line note naming the training classes the sampler never draws
  (fewer than V groups of at least M items), or None."""
  dropped = sampler.dropped_classes
  if not len(dropped):
    return None
  d = config.data
  if d.label_key == "image":
    kind, shown = "images (label_key='image')", [str(c) for c in dropped]
  else:
    names = getattr(data, "label_names", None) or data.alphabet_names
    if d.label_key == "character":
      kind, shown = "characters", [str(c) for c in dropped]
    else:
      kind, shown = "labels", [repr(names[c]) for c in dropped]
  total = len(np.unique(sampler.groups.group_class))
  return (f"{len(dropped)} of the {total} training {kind} have fewer than "
          f"data.groups_per_class={d.groups_per_class} groups of at least "
          f"data.items_per_group={d.items_per_group} items and are left out "
          f"of training: {folder.first_few(shown)}.")


def train_data(config) -> Tuple[omniglot.OmniglotSplit, sampler_lib.Sampler]:
  """The training data and its C x V x M sampler."""
  data, groups = train_groups(config)
  sampler = sampler_lib.Sampler(
      groups,
      classes_per_batch=config.data.classes_per_batch,
      groups_per_class=config.data.groups_per_class,
      items_per_group=config.data.items_per_group, seed=config.seed)
  return data, sampler


def subsample_characters(character: np.ndarray, images: np.ndarray,
                         max_characters: int, seed: int) -> np.ndarray:
  """The images of a seeded subset of max_characters characters (0: all)."""
  chars = np.unique(character[images])
  if not 0 < max_characters < len(chars):
    return images
  keep = np.random.default_rng([seed, 1]).choice(chars, max_characters,
                                                 replace=False)
  return images[np.isin(character[images], keep)]


def eval_groups(config, which: str):
  """(data, groups) of an evaluation split: alphabet x rotation groups.

  which="unseen_alphabets": the TFDS test split (evaluation alphabets), less
  any alphabet the training split holds characters of (Vinyals-trained
  encoders: 12 of the 20 remain);
  which="heldout_characters": the held-out characters of the train split;
  which="vinyals_test" / "vinyals_val": a Vinyals split, one group per
  (character, rotation) class holding its 20 drawings;
  which="heldout_labels": a folder / CSV dataset's held-out labels in its
  own groups.
  """
  spec = splits.EVAL_SPLITS[which]
  if spec.source == "heldout_labels":
    data = load_labelled(config)
    held = heldout_labels_mask(config, data)
    _check_labels(config, data, held)
    return data, groups_lib.given_groups(data.label, data.group,
                                         np.flatnonzero(held))
  if spec.source == "vinyals":
    data = load_all(config)
    return data, vinyals.class_groups(
        data, vinyals.read_split(config, spec.vinyals_file))
  if spec.source == "tfds_test":
    data = load(config, "test")
    images = np.flatnonzero(~np.isin(data.alphabet,
                                     trained_alphabets(config, data)))
  else:  # "tfds_train_heldout"
    data = load(config, "train")
    images = np.flatnonzero(heldout_mask(config, data))
  images = subsample_characters(data.character, images,
                                config.eval.max_characters, config.seed)
  return data, groups_lib.build_groups(data.alphabet, images,
                                       group_key="rotation")
