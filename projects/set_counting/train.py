"""Training and evaluation of the counting networks: small functions and one
loop (`train_and_evaluate`).

The loss is the Poisson negative log-likelihood of the true count k under
the network's rate lambda, -log Poisson(k | lambda) = lambda - k log lambda
+ log k!; a set is counted right when round(lambda) == k, round being
numpy's (to the nearest integer, halves to even).

Batches are a pure function of (config.seed, step) (sampler.sample_sets), so
a run resumed from a checkpoint trains on the batches it would have seen.
"""
import json
import os
import time
from typing import Any, Dict, Optional

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from flax.training import train_state
from jax.scipy.special import gammaln
from tqdm import tqdm

from grouprep import checkpoints
from grouprep import stats
from grouprep.data import omniglot
from projects.set_counting import models
from projects.set_counting import sampler as sampler_lib
from projects.set_counting.sampler import Sets

# What a checkpoint must share with the config that resumes it (num_steps
# and the evaluation settings may change).
IDENTITY_FIELDS = (
    "name", "seed", "model", "data.image_size", "data.min_size",
    "data.max_size", "data.val_fraction", "data.split_seed",
    "train.batch_size", "train.learning_rate", "train.matmul_precision")
# Model fields added after runs existed, with the value those runs had:
# before model.decoder_layers, the pooled vector went straight to the rate.
ADDED_LATER = {"model.decoder_layers": 0}
LOG = "log.jsonl"
METRICS = "metrics.json"


class TrainState(train_state.TrainState):
  batch_stats: Any


# --------------------------------------------------------------------------
# Data.
# --------------------------------------------------------------------------
def load_pools(data_config) -> Dict[str, sampler_lib.Pool]:
  """The train, val and test pools: TFDS 'train' (the background alphabets)
  less a fixed val_fraction of its characters, those characters, and TFDS
  'test' (the evaluation alphabets)."""
  d = data_config
  train = omniglot.load_split("train", image_size=d.image_size,
                              data_dir=d.data_dir)
  test = omniglot.load_split("test", image_size=d.image_size,
                             data_dir=d.data_dir)
  chars = np.unique(train.character)
  held = np.random.default_rng(d.split_seed).permutation(chars)[
      :round(d.val_fraction * len(chars))]
  return {
      "train": sampler_lib.make_pool(train.images, train.character,
                                     np.setdiff1d(chars, held)),
      "val": sampler_lib.make_pool(train.images, train.character,
                                   np.sort(held)),
      "test": sampler_lib.make_pool(test.images, test.character)}


def training_batch(pool, seed: int, step: int, data_config,
                   batch_size: int) -> Sets:
  return sampler_lib.sample_sets([seed, step], pool, batch_size,
                                 data_config.min_size, data_config.max_size)


def fixed_sets(pool, seed: int, num_sets: int, data_config) -> Sets:
  return sampler_lib.sample_sets(seed, pool, num_sets, data_config.min_size,
                                 data_config.max_size)


# --------------------------------------------------------------------------
# Loss and metrics (pure).
# --------------------------------------------------------------------------
def poisson_nll(rate: jax.Array, counts: jax.Array) -> jax.Array:
  """-log Poisson(counts | rate), elementwise; rate floored at 1e-8."""
  counts = counts.astype(jnp.float32)
  log_rate = jnp.log(jnp.maximum(rate, 1e-8))
  return rate - counts * log_rate + gammaln(counts + 1.0)


def predicted_counts(rate: jax.Array) -> jax.Array:
  return jnp.round(rate)  # halves to even


def correct(rate: jax.Array, counts: jax.Array) -> jax.Array:
  return (predicted_counts(rate) == counts).astype(jnp.float32)


# --------------------------------------------------------------------------
# The state and the steps.
# --------------------------------------------------------------------------
def create_train_state(config, model, rng=None) -> TrainState:
  rng = jax.random.PRNGKey(config.seed) if rng is None else rng
  s, m = config.data.image_size, config.data.max_size
  variables = jax.jit(lambda r: model.init(
      r, jnp.zeros((1, m, s, s), jnp.uint8), jnp.ones((1, m), bool)))(rng)
  return TrainState.create(apply_fn=model.apply, params=variables["params"],
                           batch_stats=variables["batch_stats"],
                           tx=optax.adam(config.train.learning_rate))


@jax.jit
def train_step(state: TrainState, images, mask, counts):
  """One Adam step on a batch: images [B, M, S, S], mask [B, M], counts [B].
  -> (state, {"loss", "accuracy"})."""
  def loss_fn(params):
    rate, updates = state.apply_fn(
        {"params": params, "batch_stats": state.batch_stats}, images, mask,
        train=True, mutable=["batch_stats"])
    return poisson_nll(rate, counts).mean(), (rate, updates)

  (loss, (rate, updates)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(state.params)
  state = state.apply_gradients(grads=grads,
                                batch_stats=updates["batch_stats"])
  return state, {"loss": loss, "accuracy": correct(rate, counts).mean()}


@jax.jit
def eval_step(state: TrainState, images, mask, counts):
  """Sums over a batch of sets: {"correct", "nll"} (BatchNorm's running
  statistics)."""
  rate = state.apply_fn({"params": state.params,
                         "batch_stats": state.batch_stats}, images, mask,
                        train=False)
  return {"correct": correct(rate, counts).sum(),
          "nll": poisson_nll(rate, counts).sum()}


def evaluate(state: TrainState, sets: Sets, batch_size: int) -> dict:
  """Accuracy and mean Poisson NLL over fixed sets, with the Wilson 95 %
  interval of the accuracy."""
  sums = {"correct": 0.0, "nll": 0.0}
  for i in range(0, len(sets.counts), batch_size):
    part = eval_step(state, sets.images[i:i + batch_size],
                     sets.mask[i:i + batch_size], sets.counts[i:i + batch_size])
    for k, v in jax.device_get(part).items():
      sums[k] += float(v)
  n, k = len(sets.counts), int(round(sums["correct"]))
  return {"accuracy": k / n, "correct": k, "num_sets": n,
          "wilson95": list(stats.wilson_interval(k, n)), "nll": sums["nll"] / n}


def constant_floor(val: Sets, test: Sets) -> dict:
  """The floor: always the count most frequent in the validation sets,
  scored on the test sets."""
  mode = int(np.bincount(val.counts).argmax())
  k, n = int((test.counts == mode).sum()), len(test.counts)
  return {"count": mode, "accuracy": k / n, "correct": k, "num_sets": n,
          "wilson95": list(stats.wilson_interval(k, n))}


# --------------------------------------------------------------------------
# Bookkeeping: checkpoints and the learning curve.
# --------------------------------------------------------------------------
def restore_or_create(config, model, mngr) -> TrainState:
  """The latest checkpoint's state (of this config), else a fresh one."""
  state = create_train_state(config, model)
  step, restored = checkpoints.restore_latest(
      mngr, state, config.to_dict(), fields=IDENTITY_FIELDS,
      added_later=ADDED_LATER)
  if restored is None:
    return state
  tqdm.write(f"Resumed from step {step} in {mngr.directory}.")
  # The step as train_step returns it (an int32 committed to the device),
  # so the first resumed step does not compile train_step a second time.
  return restored.replace(step=jax.device_put(
      jnp.asarray(int(restored.step)), jax.devices()[0]))


def read_log(workdir: str) -> list:
  path = os.path.join(workdir, LOG)
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


def truncate_log(workdir: str, step: int) -> list:
  """Keeps the learning curve up to `step` (a resumed run rewrites what an
  interrupted one logged after its last checkpoint); returns the rows."""
  rows = [r for r in read_log(workdir) if r["step"] <= step]
  with open(os.path.join(workdir, LOG), "w") as f:
    f.writelines(json.dumps(r) + "\n" for r in rows)
  return rows


def append_log(workdir: str, row: dict) -> None:
  with open(os.path.join(workdir, LOG), "a") as f:
    f.write(json.dumps(row) + "\n")


def write_json(path: str, data: dict) -> None:
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    json.dump(data, f, indent=1)
  os.replace(tmp, path)


# --------------------------------------------------------------------------
# The loop.
# --------------------------------------------------------------------------
def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str,
                       pools: Optional[Dict[str, sampler_lib.Pool]] = None
                       ) -> TrainState:
  """Trains config in workdir (resuming from its latest checkpoint),
  validating every train.eval_every steps, then reads the test sets once
  and writes metrics.json. pools: load_pools' (tests pass their own)."""
  os.makedirs(workdir, exist_ok=True)
  pools = pools or load_pools(config.data)
  d = config.data
  val = fixed_sets(pools["val"], d.val_seed, d.num_val_sets, d)
  mngr = checkpoints.manager(workdir, config.train.keep_checkpoints)
  try:
    with jax.default_matmul_precision(config.train.matmul_precision):
      state = restore_or_create(config, models.create_model(config.model),
                                mngr)
      state = train(config, workdir, state, pools["train"], val, mngr)
      metrics = read_metrics(workdir)
      if metrics is None or metrics["step"] != int(state.step):
        test = fixed_sets(pools["test"], d.test_seed, d.num_test_sets, d)
        metrics = final_metrics(config, workdir, state, val, test)
        write_json(os.path.join(workdir, METRICS), metrics)
  finally:
    mngr.close()
  tqdm.write(f"{config.name}: step {metrics['step']}, test accuracy "
             f"{metrics['test']['accuracy']:.4f} over "
             f"{metrics['test']['num_sets']} sets ({workdir}/{METRICS}).")
  return state


def train(config, workdir: str, state: TrainState, pool, val: Sets,
          mngr) -> TrainState:
  """From state.step to train.num_steps: the learning curve appended to
  log.jsonl (train loss every log_every steps, validation every
  eval_every and at step 0), a checkpoint every checkpoint_every."""
  d, t = config.data, config.train
  start = int(state.step)
  # A fresh run (no checkpoint) writes its step-0 row again, not twice.
  rows = truncate_log(workdir, start if start > 0 else -1)
  train_s = rows[-1]["train_s"] if rows else 0.0
  wall_s = rows[-1]["wall_s"] if rows else 0.0
  if start == 0 and t.num_steps > 0:  # the untrained network: a floor
    append_log(workdir, {"step": 0, "train_s": 0.0, "wall_s": 0.0,
                         **val_row(state, val, config.eval.batch_size)})
  bar = tqdm(total=t.num_steps, initial=start, desc=config.name, unit="step",
             dynamic_ncols=True, mininterval=1.0)
  pending, t0, eval_s = [], time.time(), 0.0
  batch = training_batch(pool, config.seed, start, d, t.batch_size)
  for step in range(start, t.num_steps):
    state, metrics = train_step(state, batch.images, batch.mask, batch.counts)
    pending.append(metrics)
    done = step + 1
    if done < t.num_steps:  # sampled while the step runs
      batch = training_batch(pool, config.seed, done, d, t.batch_size)
    bar.update(1)
    eval_due = done % t.eval_every == 0 or done == t.num_steps
    if eval_due or done % t.log_every == 0:
      pending = jax.device_get(pending)
      row = {"step": done,
             "train_loss": float(np.mean([m["loss"] for m in pending])),
             "train_accuracy": float(np.mean([m["accuracy"]
                                              for m in pending]))}
      pending = []
      if eval_due:
        e0 = time.time()
        row.update(val_row(state, val, config.eval.batch_size))
        eval_s += time.time() - e0
      now = time.time() - t0
      row.update(train_s=train_s + now - eval_s, wall_s=wall_s + now)
      append_log(workdir, row)
      bar.set_postfix({k: f"{v:.3f}" for k, v in row.items()
                       if k in ("train_loss", "val_accuracy")})
    if done % t.checkpoint_every == 0 or done == t.num_steps:
      checkpoints.save(mngr, done, jax.device_get(state), config.to_dict())
  bar.close()
  checkpoints.finish(mngr)
  return state


def val_row(state, val: Sets, batch_size: int) -> dict:
  result = evaluate(state, val, batch_size)
  return {"val_accuracy": result["accuracy"], "val_nll": result["nll"]}


def read_metrics(workdir: str) -> Optional[dict]:
  path = os.path.join(workdir, METRICS)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return json.load(f)


def final_metrics(config, workdir: str, state: TrainState, val: Sets,
                  test: Sets) -> dict:
  """metrics.json: the test sets' accuracy (read here, once) with its
  Wilson interval, the final validation, the two floors (the constant
  count; the same network at its initialisation) and the run's time."""
  last = read_log(workdir)[-1]
  untrained = create_train_state(config, models.create_model(config.model))
  return {"name": config.name, "step": int(state.step),
          "test": evaluate(state, test, config.eval.batch_size),
          "val": evaluate(state, val, config.eval.batch_size),
          "floor_constant_count": constant_floor(val, test),
          "floor_untrained": evaluate(untrained, test,
                                      config.eval.batch_size),
          "train_s": last["train_s"], "wall_s": last["wall_s"],
          "rounding": "round(rate) == count; numpy's round (halves to even)",
          "config": config.to_dict()}
