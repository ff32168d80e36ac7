"""Evaluation: `evaluate(config, workdir)` measures a trained encoder (and the
same encoder at initialisation) on both evaluation splits and writes
`metrics.json`, `report.md` and the plots. The metrics are in `metrics.py`.

Every metric is taken in the space the method's loss compares embeddings in
(`Method.embedding_space`): "unit" or "raw". An item is unit(f(x)) or f(x).
A group is what the loss computes: unit(pool(raw items)) for methods that
pool in the loss (the group-contrastive family), pool(items in the space) for
methods that pool only here, with the config's pooling, the encoder in eval
mode.
"""
import io
import json
import os
import time
import zipfile
from typing import Dict, Optional

import jax
import numpy as np
from PIL import Image

from grouprep import checkpoints
from grouprep import methods
from grouprep import metrics
from grouprep import models
from grouprep import platform
from grouprep import pooling
from grouprep import train as train_lib
from grouprep import validation
from grouprep.data import groups as groups_lib
from grouprep.data import pipeline
from grouprep.data import shared
from grouprep.data.sampler import gather_images

EVAL_SPLITS = ("unseen_alphabets", "heldout_characters")
VINYALS_EVAL_SPLITS = ("unseen_alphabets", "vinyals_val", "vinyals_test")
FEWSHOT = ((5, 1), (5, 5), (20, 1), (20, 5))  # (ways, shots)
LAKE_RUNS = os.path.join("omniglot", "all_runs.zip")
# Lake's runs 01-08 draw on evaluation alphabets whose characters the Vinyals
# trainval split holds (156 of their 160 classes): Vinyals-trained encoders
# are scored on runs 09-20 alone.
LAKE_RUNS_TRAINED_BY_VINYALS = tuple(f"run{i:02d}" for i in range(1, 9))


# --------------------------------------------------------------------------
# Embeddings.
# --------------------------------------------------------------------------
def make_apply_fn(model):
  """jit((variables, images [B, S, S, 1]) -> [B, D]), the encoder in eval mode."""
  return jax.jit(lambda v, x: model.apply(v, x, train=False))


def make_embed_fn(model, variables, batch_size: int, apply=None):
  """images [N, S, S, 1] float -> embeddings [N, D], in fixed-size batches.

  apply: a make_apply_fn(model) to reuse (one compilation across variables).
  """
  apply = apply or make_apply_fn(model)

  def embed(x: np.ndarray) -> np.ndarray:
    out = []
    for lo in range(0, len(x), batch_size):
      chunk = x[lo:lo + batch_size]
      pad = batch_size - len(chunk)  # one shape, one compilation
      if pad:
        chunk = np.concatenate([chunk, np.zeros((pad,) + chunk.shape[1:],
                                                chunk.dtype)])
      out.append(np.asarray(apply(variables, chunk))[:batch_size - pad])
    return np.concatenate(out)

  return embed


def embed_groups(embed, images: np.ndarray,
                 groups: groups_lib.Groups, batch_size: int) -> np.ndarray:
  """Embeddings of every item of `groups`, in group order: [I, D]."""
  n = len(groups.item_image)
  return np.concatenate([
      embed(gather_images(images, groups,
                          np.arange(lo, min(lo + batch_size, n))))
      for lo in range(0, n, batch_size)])


def sample_items(groups: groups_lib.Groups, total: int, seed: int):
  """A seeded sample of about `total` items spread evenly over the groups
  (all items if total == 0), in group order: (positions [I'], offsets
  [G + 1] of the groups within the sample)."""
  per_group = max(1, total // groups.num_groups) if total else 0
  sub = sample_per_group(groups, per_group, seed)
  sizes = np.bincount(groups.item_group[sub], minlength=groups.num_groups)
  return sub, np.r_[0, np.cumsum(sizes)]


def sample_per_group(groups: groups_lib.Groups, per_group: int,
                     seed: int) -> np.ndarray:
  """Seeded subset of each group's items (all if per_group == 0), group order."""
  rng = np.random.default_rng(seed)
  keep = []
  for g in range(groups.num_groups):
    idx = groups.members(g)
    if 0 < per_group < len(idx):
      idx = np.sort(rng.choice(idx, per_group, replace=False))
    keep.append(idx)
  return np.concatenate(keep)


# --------------------------------------------------------------------------
# Lake et al.'s 20 one-shot runs.
# --------------------------------------------------------------------------
def _strokes(png: bytes, image_size: int) -> np.ndarray:
  """A run's 1-bit PNG (white background) -> [S, S] uint8, strokes bright,
  resized exactly as the TFDS images are."""
  img = np.asarray(Image.open(io.BytesIO(png)).convert("L")) < 128
  img = Image.fromarray(img.astype(np.uint8) * 255)
  if image_size != img.size[0]:
    img = img.resize((image_size, image_size), Image.Resampling.BOX)
  return np.asarray(img)


def load_lake_runs(path: str, image_size: int, exclude=()):
  """[(train [20, S, S], test [20, S, S], test_label [20])] for the 20 runs
  (less the run names in `exclude`).

  Row j of train is class j; test_label gives each test image's class.
  """
  runs = []
  with zipfile.ZipFile(path) as z:
    names = sorted({n.split("/")[0] for n in z.namelist() if "/" in n}
                   - set(exclude))
    for run in names:
      pairs = [l.split() for l in z.read(f"{run}/class_labels.txt").decode()
               .splitlines() if l.strip()]
      train_files = sorted({p[1] for p in pairs})
      label = np.array([train_files.index(p[1]) for p in pairs])
      train = np.stack([_strokes(z.read(f), image_size) for f in train_files])
      test = np.stack([_strokes(z.read(p[0]), image_size) for p in pairs])
      runs.append((train, test, label))
  return runs


def lake_error(runs, featurize) -> float:
  """Mean over runs of the 1-nearest-neighbour error (Lake et al.'s rule).

  featurize: images [N, S, S] uint8 -> features [N, F], called once.
  """
  feats = featurize(np.concatenate([np.concatenate([tr, te])
                                    for tr, te, _ in runs]))
  errors, lo = [], 0
  for train, test, label in runs:
    f_train = feats[lo:lo + len(train)]
    f_test = feats[lo + len(train):lo + len(train) + len(test)]
    lo += len(train) + len(test)
    errors.append(metrics.nearest_neighbour_error(f_test, f_train, label))
  return float(np.mean(errors))


def _as_input(images: np.ndarray) -> np.ndarray:
  return images[..., None].astype(np.float32) / 255.0


# --------------------------------------------------------------------------
# The method's embedding space.
# --------------------------------------------------------------------------
def unit(x: np.ndarray) -> np.ndarray:
  """Rows scaled to norm 1 (as losses.pairwise_similarity's cosine does)."""
  x = np.asarray(x, np.float32)
  return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def in_space(raw: np.ndarray, space: str) -> np.ndarray:
  """Item embeddings [I, D] in the embedding space "unit" or "raw"."""
  return unit(raw) if space == "unit" else np.asarray(raw, np.float32)


class Space:
  """Items and groups as the method's loss sees them.

  items(raw [I, D]) -> [I, D] in the space; pool_input(raw) -> what the
  pooling reads (raw items if the loss pools raw items, else items in the
  space); groups(pool_input, member lists) -> [G, D] in the space;
  leave_out(members [M, D] of pool_input) -> [M, D], row k the group pooled
  without member k, in the space.
  """

  def __init__(self, method, pool_name: str, pool_params=None):
    self.name = method.embedding_space
    self.pools_in_loss = method.pools_in_loss
    self.pool_name, self.pool_params = pool_name, pool_params
    self._pool = jax.jit(pooling.get_pooling(pool_name, pool_params))

  def items(self, raw):
    return in_space(raw, self.name)

  def pool_input(self, raw):
    return np.asarray(raw, np.float32) if self.pools_in_loss \
        else self.items(raw)

  def _post(self, pooled):
    return self.items(pooled) if self.pools_in_loss else pooled

  def groups(self, pool_input, members) -> np.ndarray:
    """Groups of equal size are pooled in one call ([G_n, n, D])."""
    out = np.zeros((len(members), pool_input.shape[1]), np.float32)
    sizes = np.array([len(m) for m in members])
    for n in np.unique(sizes):
      rows = np.flatnonzero(sizes == n)
      stack = pool_input[np.stack([members[r] for r in rows])]
      out[rows] = np.asarray(self._pool(stack))
    return self._post(out)

  def leave_out(self, members_emb):
    return self._post(metrics.leave_one_out_pool(
        np.asarray(members_emb, np.float64), self.pool_name,
        self.pool_params).astype(np.float32))


# --------------------------------------------------------------------------
# Evaluating one encoder.
# --------------------------------------------------------------------------
def fewshot_items(data, groups, split: str):
  """(positions into the split's items, their few-shot class) per split:
  characters, upright drawings only, on the alphabet splits; the (character,
  rotation) classes on the Vinyals splits (rotations are classes there)."""
  if split.startswith("vinyals"):
    return np.arange(len(groups.item_image)), groups.item_group
  upright = np.flatnonzero(groups.item_rotation == 0)
  return upright, data.character[groups.item_image[upright]]


def fewshot(config, items, data, groups, split: str, episodes: int) -> Dict:
  """N-way K-shot accuracy of item embeddings [I, D] for each (N, K) of FEWSHOT."""
  pos, classes = fewshot_items(data, groups, split)
  return {f"{n}way_{k}shot": metrics.fewshot_accuracy(
      items[pos], classes, n, k, queries=config.eval.fewshot_queries,
      episodes=episodes, seed=config.seed) for n, k in FEWSHOT}


def eval_splits(config):
  """The splits evaluated for config. Vinyals-trained encoders: the
  evaluation alphabets they never saw, Vinyals val (only when trained on
  vinyals_train: trainval holds it) and test; no held-out characters (the
  Vinyals split trains on every background one)."""
  if config.data.train_split == "vinyals_trainval":
    return tuple(s for s in VINYALS_EVAL_SPLITS if s != "vinyals_val")
  if config.data.train_split.startswith("vinyals"):
    return VINYALS_EVAL_SPLITS
  return EVAL_SPLITS


def periodic_split(config) -> str:
  """What the evaluation during training reads: a validation split, where
  recipes are compared (Vinyals val for vinyals_train, the held-out
  characters for the alphabet-trained configs). A recipe retrained on
  vinyals_trainval, which holds val, logs its curve on Vinyals test: read
  after the recipe was chosen, nothing is selected on it."""
  if config.data.train_split == "vinyals_train":
    return "vinyals_val"
  if config.data.train_split == "vinyals_trainval":
    return "vinyals_test"
  return "heldout_characters"


def make_periodic_eval(config, model):
  """fn(variables) -> {"SPLIT/5way_1shot": mean, ...}: few-shot accuracy on
  periodic_split(config) with config.eval.during_training_episodes episodes,
  in the method's space. Data are loaded once."""
  split = periodic_split(config)
  data, groups = pipeline.eval_groups(config, split)
  apply = make_apply_fn(model)
  space = methods.get_method(config.loss).embedding_space

  def periodic_eval(variables) -> Dict:
    embed = make_embed_fn(model, variables, config.eval.batch_size, apply)
    items = embed_groups(embed, data.images, groups, config.eval.batch_size)
    items = in_space(items, space)
    acc = fewshot(config, items, data, groups, split,
                  config.eval.during_training_episodes)
    return {f"{split}/{k}": v["mean"] for k, v in acc.items()}

  return periodic_eval


def train_margin(config, embed, space: Space, train_data) -> Dict:
  """Theorem 1's triplet margin m, a property of the encoder, on its training
  groups with alphabet labels (a seeded sample of eval.theorem1_items items
  spread over them), in the method's space. Methods whose classes are not
  alphabets (unsupervised, or the Vinyals split's characters) are measured on
  the note's alphabet x rotation groups of the training characters."""
  data, images = train_data
  if config.data.label_key == "alphabet" and \
      config.data.train_split == "background":
    groups, source = pipeline.make_groups(config, data, images), "train_groups"
  else:
    groups = groups_lib.build_groups(data.alphabet, images)
    source = "train_characters_rotation_groups"
  sub, offsets = sample_items(groups, config.eval.theorem1_items, config.seed)
  items = space.items(embed(gather_images(data.images, groups, sub)))
  return {"margin_m": metrics.triplet_margin(
      items, groups.group_class[groups.item_group[sub]], offsets),
          "source": source, "num_groups": int(groups.num_groups),
          "num_items": int(len(sub))}


def disjoint_characters(config, raw, space: Space, data, groups) -> Dict:
  """The disjoint-character protocol on the upright drawings of a split:
  the note's metric and retrieval for one seeded character split with every
  drawing, and the group-size curve over eval.size_curve_resamples
  resamples."""
  ev = config.eval
  upright = np.flatnonzero(groups.item_rotation == 0)
  image = groups.item_image[upright]
  # An alphabet with fewer characters than sets (possible on a subsample of
  # characters) cannot be split: it is left out, and the count reported.
  chars = {a: len(np.unique(data.character[image][data.alphabet[image] == a]))
           for a in np.unique(data.alphabet[image])}
  splittable = [a for a, n in chars.items() if n >= ev.charsets_per_alphabet]
  upright = upright[np.isin(data.alphabet[image], splittable)]
  image = groups.item_image[upright]
  alphabet, character = data.alphabet[image], data.character[image]
  pool_in = space.pool_input(raw[upright])
  embed = lambda members: space.groups(pool_in, members)
  # The size curve's first resample with every drawing.
  members, labels = metrics.charset_groups(
      alphabet, character, ev.charsets_per_alphabet, (config.seed, 0))
  g_emb = embed(members)
  return {
      "distance": metrics.distance_stats(g_emb, labels),
      "retrieval": metrics.group_retrieval(g_emb, labels),
      "size_curve": metrics.group_size_curve(
          alphabet, character, tuple(ev.size_curve), ev.size_curve_resamples,
          ev.charsets_per_alphabet, config.seed, embed),
      "num_groups": len(members), "num_alphabets": len(splittable),
      "alphabets_left_out": len(chars) - len(splittable),
      "charsets_per_alphabet": int(ev.charsets_per_alphabet)}


def evaluate_split(config, embed, split: str, data, groups, space: Space,
                   margin: Dict = None, keep_embeddings: bool = False):
  """The metrics of one encoder on one split, in the method's space;
  (data, groups) from pipeline.eval_groups(config, split); margin: Theorem
  1's m measured on the training groups (train_margin)."""
  ev = config.eval
  raw = embed_groups(embed, data.images, groups, ev.batch_size)
  items = space.items(raw)
  if split.startswith("vinyals"):  # one group per class: only few-shot applies
    return {"fewshot": fewshot(config, items, data, groups, split,
                               ev.fewshot_episodes),
            "num_classes": int(groups.num_groups),
            "num_items": int(len(items))}, None
  pool_in = space.pool_input(raw)
  members = [groups.members(g) for g in range(groups.num_groups)]
  g_emb = space.groups(pool_in, members)
  labels = groups.group_class
  out = {
      "distance": metrics.distance_stats(g_emb, labels),
      "distance_per_alphabet": metrics.distance_stats_per_label(
          g_emb, labels, data.alphabet_names),
      "retrieval": metrics.group_retrieval(g_emb, labels),
      "item_to_group_accuracy": metrics.item_to_group_accuracy(
          items, groups.item_group, groups.item_image, g_emb, labels,
          lambda g: space.leave_out(pool_in[members[g]])),
      "num_groups": int(groups.num_groups),
      "num_items": int(len(items)),
      "num_alphabets": int(len(np.unique(labels))),
  }
  # Theorem 1 is stated for centroids: measured on a seeded sample of each
  # group, with the sample's centroids (in the space) as the group embeddings.
  sub, offsets = sample_items(groups, ev.theorem1_items, config.seed)
  centroids = np.stack([items[sub][offsets[g]:offsets[g + 1]].mean(0)
                        for g in range(groups.num_groups)])
  out["theorem1"] = metrics.theorem1(
      centroids, labels, items[sub], offsets,
      num_triplets=ev.theorem1_triplets, seed=config.seed,
      item_drawing=groups.item_image[sub],
      **({} if margin is None else {"margin_m": margin["margin_m"],
                                    "margin_source": margin["source"]}))
  out["disjoint_characters"] = disjoint_characters(config, raw, space, data,
                                                   groups)
  out["fewshot"] = fewshot(config, items, data, groups, split,
                           ev.fewshot_episodes)
  extra = {"items": items, "groups": groups, "group_emb": g_emb,
           "data": data} if keep_embeddings else None
  return out, extra


def evaluate_encoder(config, model, variables, splits, space: Space,
                     train_data=None, lake_runs=None,
                     keep_embeddings: bool = False,
                     lake_key: str = "lake_one_shot_error"):
  """splits: {name: (data, groups)}, loaded once for every encoder;
  train_data: (data, image indices) of the training characters for Theorem
  1's margin."""
  embed = make_embed_fn(model, variables, config.eval.batch_size)
  out, extras = {}, {}
  margin = train_margin(config, embed, space, train_data) if train_data \
      else None
  for split, (data, groups) in splits.items():
    out[split], extras[split] = evaluate_split(
        config, embed, split, data, groups, space, margin, keep_embeddings)
  if margin:
    out["theorem1_train_groups"] = margin
  if lake_runs:
    out[lake_key] = lake_error(lake_runs, lambda x: space.items(embed(_as_input(x))))
  return out, extras


def _lake_path(config) -> Optional[str]:
  """config.eval.lake_runs, else shared/omniglot/all_runs.zip beside the
  checkout, the working directory or the TFDS data dir."""
  return shared.find(LAKE_RUNS, config.eval.lake_runs, "eval.lake_runs",
                     config.data.data_dir)


# --------------------------------------------------------------------------
# Entry point.
# --------------------------------------------------------------------------
def train_devices(workdir: str, config) -> int:
  """The number of devices the run trained on (train_log.jsonl), else the
  config's resolved count."""
  from grouprep import report  # pylint: disable=g-import-not-at-top
  rows = report.read_train_log(workdir)
  if rows and "num_devices" in rows[max(rows)]:
    return int(rows[max(rows)]["num_devices"])
  return platform.resolve_num_devices(config.num_devices)


def evaluate(config, workdir: str) -> Dict:
  """Restores the latest checkpoint of workdir; writes metrics.json, report.md
  and the plots there."""
  from grouprep import report  # pylint: disable=g-import-not-at-top
  validation.validate(config)
  t0 = time.time()
  model = models.create_model(config.model)
  image_shape = (config.data.image_size, config.data.image_size, 1)
  _, train_groups = pipeline.train_groups(config)
  init = train_lib.create_train_state(config, model, image_shape,
                                      train_groups.num_classes)
  mngr = checkpoints.manager(workdir, config.train.keep_checkpoints)
  step, state = checkpoints.restore_latest(
      mngr, init, config.to_dict(), checkpoints.EVAL_IDENTITY_FIELDS)
  mngr.close()
  if state is None:
    raise checkpoints.CheckpointError(
        f"No checkpoint in {os.path.join(workdir, 'checkpoints')}: train first "
        f"(--mode=train or the default --mode=train_and_eval).")

  vinyals_trained = config.data.train_split.startswith("vinyals")
  exclude = LAKE_RUNS_TRAINED_BY_VINYALS if vinyals_trained else ()
  lake_key = ("lake_one_shot_error_runs09_20" if vinyals_trained
              else "lake_one_shot_error")
  lake_path = _lake_path(config)
  lake_runs = load_lake_runs(lake_path, config.data.image_size, exclude) \
      if lake_path else None
  method = methods.get_method(config.loss)
  splits = {s: pipeline.eval_groups(config, s) for s in eval_splits(config)}
  train_split = pipeline.load(config, "train")
  train_chars = (train_split,
                 np.flatnonzero(~pipeline.heldout_mask(config, train_split)))
  trained, extras = evaluate_encoder(
      config, model, train_lib.encoder_variables(state), splits,
      Space(method, config.loss.pooling,
            method.pooling_params(state.params["head"])),
      train_chars, lake_runs, keep_embeddings=True, lake_key=lake_key)
  untrained, _ = evaluate_encoder(
      config, model, train_lib.encoder_variables(init), splits,
      Space(method, config.loss.pooling,
            method.pooling_params(init.params["head"])),
      train_chars, lake_runs, lake_key=lake_key)
  result = {"config": config.name, "step": int(step),
            "embedding_space": method.embedding_space,
            "num_devices": train_devices(workdir, config),
            "model": config.model.name + (
                f"+head{config.model.embed_dim}" if config.model.embed_dim
                else ""), "pooling": config.loss.pooling,
            "fewshot_queries": config.eval.fewshot_queries, "eval": trained,
            "untrained": untrained}
  if vinyals_trained:
    data = splits["unseen_alphabets"][0]
    result["trained_on"] = {
        "alphabets_left_out_of_unseen_alphabets": [
            data.alphabet_names[a]
            for a in pipeline.trained_alphabets(config, data)
            if a in set(data.alphabet.tolist())],
        "lake_runs_left_out": list(exclude),
        "heldout_characters": "not evaluated: the Vinyals split trains on "
                              "every background character"}
    if config.data.train_split == "vinyals_trainval":
      result["trained_on"]["vinyals_val"] = "not evaluated: part of trainval"
  if lake_path:
    # Raw pixels at full resolution, as in Lake et al.'s pixel baseline.
    full = load_lake_runs(lake_path, 105, exclude)
    result[lake_key + "_raw_pixels"] = lake_error(
        full, lambda x: x.reshape(len(x), -1).astype(np.float32) / 255)
  else:
    result["lake_one_shot_error_skipped"] = (
        f"../shared/{LAKE_RUNS} not found; set --config.eval.lake_runs.")
  result["eval_seconds"] = round(time.time() - t0, 1)

  path = os.path.join(workdir, "metrics.json")
  with open(path + ".tmp", "w") as f:
    json.dump(result, f, indent=2)
  os.replace(path + ".tmp", path)
  report.write_run_report(workdir, result, extras["unseen_alphabets"])
  print(report.headline(result), flush=True)
  return result
