"""Evaluation: `evaluate(config, workdir)` measures a trained encoder (and the
same encoder at initialisation) on both evaluation splits and writes
`metrics.json`, `report.md` and the plots. The metrics are in `metrics.py`.

A group's embedding is f(G) = pool({f(x) : x in G}) over all its items, with
the config's pooling, the encoder in eval mode.
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
from grouprep import pooling
from grouprep import train as train_lib
from grouprep import validation
from grouprep.data import groups as groups_lib
from grouprep.data import pipeline
from grouprep.data import shared
from grouprep.data.sampler import gather_images

EVAL_SPLITS = ("unseen_alphabets", "heldout_characters")
FEWSHOT = ((5, 1), (5, 5), (20, 1), (20, 5))  # (ways, shots)
LAKE_RUNS = os.path.join("omniglot", "all_runs.zip")


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


def group_embeddings(item_emb: np.ndarray, groups: groups_lib.Groups,
                     pool_name: str, pool_params=None) -> np.ndarray:
  """[I, D] item embeddings (group order) -> [G, D] group embeddings."""
  pool = jax.jit(pooling.get_pooling(pool_name, pool_params))
  return np.stack([np.asarray(pool(item_emb[groups.members(g)]))
                   for g in range(groups.num_groups)])


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


def load_lake_runs(path: str, image_size: int):
  """[(train [20, S, S], test [20, S, S], test_label [20])] for the 20 runs.

  Row j of train is class j; test_label gives each test image's class.
  """
  runs = []
  with zipfile.ZipFile(path) as z:
    names = sorted({n.split("/")[0] for n in z.namelist() if "/" in n})
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
# Evaluating one encoder.
# --------------------------------------------------------------------------
def fewshot_items(data, groups, split: str):
  """(positions into the split's items, their few-shot class) per split:
  characters, upright drawings only, on the alphabet splits; the (character,
  rotation) classes on vinyals_test (rotations are classes there)."""
  if split == "vinyals_test":
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
  """The splits evaluated for config: both alphabet splits, plus the Vinyals
  test split for encoders trained on the Vinyals split."""
  if config.data.train_split.startswith("vinyals"):
    return EVAL_SPLITS + ("vinyals_test",)
  return EVAL_SPLITS


def make_periodic_eval(config, model):
  """fn(variables) -> {"5way_1shot": mean, ...}: few-shot accuracy on the
  Vinyals test split (Vinyals-trained configs) or unseen alphabets, with
  config.eval.during_training_episodes episodes. Data are loaded once."""
  split = "vinyals_test" if "vinyals_test" in eval_splits(config) \
      else "unseen_alphabets"
  data, groups = pipeline.eval_groups(config, split)
  apply = make_apply_fn(model)

  def periodic_eval(variables) -> Dict:
    embed = make_embed_fn(model, variables, config.eval.batch_size, apply)
    items = embed_groups(embed, data.images, groups, config.eval.batch_size)
    acc = fewshot(config, items, data, groups, split,
                  config.eval.during_training_episodes)
    return {f"{split}/{k}": v["mean"] for k, v in acc.items()}

  return periodic_eval


def evaluate_split(config, embed, split: str, data, groups,
                   keep_embeddings: bool = False, pool_params=None):
  """The metrics of one encoder on one split; (data, groups) from
  pipeline.eval_groups(config, split)."""
  if split == "vinyals_test":  # one group per class: only few-shot applies
    items = embed_groups(embed, data.images, groups, config.eval.batch_size)
    return {"fewshot": fewshot(config, items, data, groups, split,
                               config.eval.fewshot_episodes),
            "num_classes": int(groups.num_groups),
            "num_items": int(len(items))}, None
  ev = config.eval
  items = embed_groups(embed, data.images, groups, ev.batch_size)
  g_emb = group_embeddings(items, groups, config.loss.pooling, pool_params)
  labels = groups.group_class
  out = {
      "distance": metrics.distance_stats(g_emb, labels),
      "distance_per_alphabet": metrics.distance_stats_per_label(
          g_emb, labels, data.alphabet_names),
      "retrieval": metrics.group_retrieval(g_emb, labels),
      "item_to_group_accuracy": metrics.item_to_group_accuracy(
          items, groups.item_group, g_emb, labels, config.loss.pooling,
          config.loss.similarity, pool_params),
      "num_groups": int(groups.num_groups),
      "num_items": int(len(items)),
  }
  # Theorem 1 is stated for centroids: measured on a seeded sample of each
  # group, with the sample's centroids as the group embeddings.
  sub = sample_per_group(groups, ev.theorem1_items_per_group, config.seed)
  sizes = np.bincount(groups.item_group[sub], minlength=groups.num_groups)
  offsets = np.r_[0, np.cumsum(sizes)]
  centroids = np.stack([items[sub][offsets[g]:offsets[g + 1]].mean(0)
                        for g in range(groups.num_groups)])
  out["theorem1"] = metrics.theorem1(centroids, labels, items[sub], offsets)
  out["fewshot"] = fewshot(config, items, data, groups, split,
                           ev.fewshot_episodes)
  extra = {"items": items, "groups": groups, "group_emb": g_emb,
           "data": data} if keep_embeddings else None
  return out, extra


def evaluate_encoder(config, model, variables, splits, lake_runs=None,
                     keep_embeddings: bool = False, pool_params=None):
  """splits: {name: (data, groups)}, loaded once for every encoder."""
  embed = make_embed_fn(model, variables, config.eval.batch_size)
  out, extras = {}, {}
  for split, (data, groups) in splits.items():
    out[split], extras[split] = evaluate_split(
        config, embed, split, data, groups, keep_embeddings, pool_params)
  if lake_runs:
    out["lake_one_shot_error"] = lake_error(
        lake_runs, lambda x: embed(_as_input(x)))
  return out, extras


def _lake_path(config) -> Optional[str]:
  """config.eval.lake_runs, else shared/omniglot/all_runs.zip beside the
  checkout, the working directory or the TFDS data dir."""
  return shared.find(LAKE_RUNS, config.eval.lake_runs, "eval.lake_runs",
                     config.data.data_dir)


# --------------------------------------------------------------------------
# Entry point.
# --------------------------------------------------------------------------
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

  lake_path = _lake_path(config)
  lake_runs = load_lake_runs(lake_path, config.data.image_size) if lake_path \
      else None
  method = methods.get_method(config.loss)
  splits = {s: pipeline.eval_groups(config, s) for s in eval_splits(config)}
  trained, extras = evaluate_encoder(
      config, model, train_lib.encoder_variables(state), splits, lake_runs,
      keep_embeddings=True,
      pool_params=method.pooling_params(state.params["head"]))
  untrained, _ = evaluate_encoder(
      config, model, train_lib.encoder_variables(init), splits, lake_runs,
      pool_params=method.pooling_params(init.params["head"]))
  result = {"config": config.name, "step": int(step),
            "model": config.model.name + (
                f"+head{config.model.embed_dim}" if config.model.embed_dim
                else ""), "pooling": config.loss.pooling,
            "fewshot_queries": config.eval.fewshot_queries, "eval": trained,
            "untrained": untrained}
  if lake_path:
    # Raw pixels at full resolution, as in Lake et al.'s pixel baseline.
    full = load_lake_runs(lake_path, 105)
    result["lake_one_shot_error_raw_pixels"] = lake_error(
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
