"""Evaluation: metrics as pure functions, and `evaluate(config, workdir)`.

Every group embedding is f(G) = pool({f(x) : x in G}) over *all* items of the
group, with the config's pooling, computed from the encoder in eval mode.
"""
import json
import os
import time
from typing import Dict

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from grouprep import checkpoints
from grouprep import models
from grouprep import pooling
from grouprep import train as train_lib
from grouprep.data import groups as groups_lib
from grouprep.data import pipeline

EVAL_SPLITS = ("unseen_alphabets",)


# --------------------------------------------------------------------------
# Metrics (pure).
# --------------------------------------------------------------------------
def pairwise_distances(x: np.ndarray) -> np.ndarray:
  """Euclidean distances. x: [G, D] -> [G, G]."""
  x = np.asarray(x, np.float64)
  sq = np.sum(x * x, -1)
  return np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0))


def distance_stats(group_emb: np.ndarray, group_label: np.ndarray) -> Dict:
  """The note's metric. group_emb: [G, D], group_label: [G].

  Mean ||f(G) - f(G')|| over unordered pairs of distinct groups with the same
  label and with different labels, and ratio = diff / same (higher: better).
  """
  dist = pairwise_distances(group_emb)
  same = group_label[:, None] == group_label[None, :]
  upper = np.triu(np.ones_like(same), k=1)
  same_mean = float(dist[same & upper].mean())
  diff_mean = float(dist[~same & upper].mean())
  return {"same_label_mean": same_mean, "diff_label_mean": diff_mean,
          "ratio": diff_mean / same_mean if same_mean > 0 else float("inf")}


def distance_stats_per_label(group_emb, group_label, names) -> Dict:
  """distance_stats restricted to the pairs that involve each label."""
  dist = pairwise_distances(group_emb)
  out = {}
  for k in np.unique(group_label):
    mine = group_label == k
    same = dist[np.ix_(mine, mine)][np.triu_indices(mine.sum(), 1)]
    diff = dist[np.ix_(mine, ~mine)]
    out[names[k]] = {"same_label_mean": float(same.mean()),
                     "diff_label_mean": float(diff.mean()),
                     "ratio": float(diff.mean() / same.mean())}
  return out


# --------------------------------------------------------------------------
# Embeddings.
# --------------------------------------------------------------------------
def embed_items(model, variables, images: np.ndarray, groups: groups_lib.Groups,
                batch_size: int) -> np.ndarray:
  """Embeddings of every item of `groups`: [I, D] (eval-mode encoder)."""
  from grouprep.data.sampler import gather_images  # pylint: disable=g-import-not-at-top
  apply = jax.jit(lambda x: model.apply(variables, x, train=False))
  n = len(groups.item_image)
  out = []
  for start in range(0, n, batch_size):
    idx = np.arange(start, min(start + batch_size, n))
    x = gather_images(images, groups, idx)
    pad = batch_size - len(idx)  # a fixed shape: one compilation
    if pad:
      x = np.concatenate([x, np.zeros((pad,) + x.shape[1:], x.dtype)])
    out.append(np.asarray(apply(x))[:len(idx)])
  return np.concatenate(out)


def group_embeddings(item_emb: np.ndarray, groups: groups_lib.Groups,
                     pool_name: str) -> np.ndarray:
  """[I, D] item embeddings -> [G, D] group embeddings."""
  pool = jax.jit(pooling.get_pooling(pool_name))
  return np.stack([np.asarray(pool(jnp.asarray(item_emb[groups.members(g)])))
                   for g in range(groups.num_groups)])


def evaluate_variables(config, model, variables) -> Dict:
  """All metrics of one set of encoder variables, per evaluation split."""
  out = {}
  for split in EVAL_SPLITS:
    data, groups = pipeline.eval_groups(config, split)
    items = embed_items(model, variables, data.images, groups,
                        config.eval.batch_size)
    g_emb = group_embeddings(items, groups, config.loss.pooling)
    out[split] = {
        "distance": distance_stats(g_emb, groups.group_class),
        "distance_per_alphabet": distance_stats_per_label(
            g_emb, groups.group_class, data.alphabet_names),
        "num_groups": int(groups.num_groups),
        "num_items": int(len(groups.item_image)),
    }
  return out


# --------------------------------------------------------------------------
# Entry point.
# --------------------------------------------------------------------------
def evaluate(config, workdir: str) -> Dict:
  """Restores the latest checkpoint of workdir; writes metrics.json."""
  t0 = time.time()
  model = models.create_model(config.model)
  image_shape = (config.data.image_size, config.data.image_size, 1)
  init = train_lib.create_train_state(config, model, image_shape)
  mngr = checkpoints.manager(workdir, config.train.keep_checkpoints)
  step, state = checkpoints.restore_latest(mngr, init, config.to_dict())
  mngr.close()
  if state is None:
    raise checkpoints.CheckpointError(
        f"No checkpoint in {os.path.join(workdir, 'checkpoints')}: train first "
        f"(--mode=train or the default --mode=train_and_eval).")

  def variables(s):
    return {"params": s.params, "batch_stats": s.batch_stats}

  metrics = {
      "config": config.name,
      "step": int(step),
      "eval": evaluate_variables(config, model, variables(state)),
      "untrained": evaluate_variables(config, model, variables(init)),
  }
  metrics["eval_seconds"] = round(time.time() - t0, 1)
  path = os.path.join(workdir, "metrics.json")
  with open(path + ".tmp", "w") as f:
    json.dump(metrics, f, indent=2)
  os.replace(path + ".tmp", path)
  for split in EVAL_SPLITS:
    d, u = metrics["eval"][split]["distance"], metrics["untrained"][split]["distance"]
    logging.info(
        "%s %s: same %.4f diff %.4f ratio %.3f (untrained: ratio %.3f)",
        config.name, split, d["same_label_mean"], d["diff_label_mean"],
        d["ratio"], u["ratio"])
  print(json.dumps({"config": config.name, "step": int(step), **{
      s: metrics["eval"][s]["distance"] for s in EVAL_SPLITS}}))
  return metrics
