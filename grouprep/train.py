"""Training: the train state, the pmapped step, the loop and its checkpoints."""
import functools
import os
import sys
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from absl import logging
from tqdm import tqdm

from grouprep import checkpoints
from grouprep import encoder as encoder_lib
from grouprep import evaluate
from grouprep import logs
from grouprep import models
from grouprep import platform
from grouprep import state as state_lib
from grouprep import validation
from grouprep.data import augment
from grouprep.data import pipeline
from grouprep.data import sampler as sampler_lib
from grouprep.errors import NonFiniteLossError
from grouprep.methods.interface import Batch
from grouprep.methods.interface import Method
from grouprep.methods.interface import TrainingGroups
from grouprep.methods.interface import no_training_groups
from grouprep.methods.registry import get_method
from grouprep.state import TrainState

AXIS = "batch"  # The pmapped device axis.


# --------------------------------------------------------------------------
# Building blocks.
# --------------------------------------------------------------------------
def create_learning_rate_fn(config) -> optax.Schedule:
  t = config.train
  if t.schedule == "constant":
    return optax.constant_schedule(t.learning_rate)
  if t.schedule == "step":  # Snell et al.: halve every 2000 episodes.
    return optax.exponential_decay(t.learning_rate, t.decay_every,
                                   t.decay_factor, staircase=True)
  if t.num_steps < 2:  # no room for a warmup and a decay
    return optax.constant_schedule(t.learning_rate)
  warmup = min(t.warmup_steps, t.num_steps - 1)
  return optax.warmup_cosine_decay_schedule(
      0.0, t.learning_rate, max(warmup, 1), t.num_steps, end_value=0.0)


def create_optimizer(config) -> optax.GradientTransformation:
  lr = create_learning_rate_fn(config)
  if config.train.optimizer == "sgd":
    return optax.sgd(lr, momentum=0.9)
  if config.train.weight_decay:
    return optax.adamw(lr, weight_decay=config.train.weight_decay)
  return optax.adam(lr)


def training_groups(config, data, groups,
                    placeholder: bool = False) -> TrainingGroups:
  """What a method may know of the training groups (methods.interface):
  their classes, and their pooled embeddings on demand (zeros of the right
  shape with `placeholder`, when a checkpoint will replace them)."""
  method = get_method(config.loss)
  model = models.create_model(config.model)

  def pooled(encoder, pool_params):
    if placeholder:
      x = jnp.zeros((1, config.data.image_size, config.data.image_size, 1))
      dim = jax.eval_shape(lambda v: model.apply(v, x, train=False),
                           encoder).shape[-1]
      return np.zeros((groups.num_groups, dim), np.float32)
    with jax.default_matmul_precision(config.train.matmul_precision):
      embed = encoder_lib.make_embed_fn(model, encoder,
                                        config.eval.batch_size)
      raw = encoder_lib.embed_groups(embed, data.images, groups,
                                     config.eval.batch_size)
      space = encoder_lib.Space(method.embedding_space, method.pools_in_loss,
                                config.loss.pooling, pool_params)
      return space.groups(space.pool_input(raw), [
          groups.members(g) for g in range(groups.num_groups)])

  return TrainingGroups(groups.num_classes, groups.group_class, pooled)


def create_train_state(config, model, image_shape,
                       num_classes: int = 1,
                       training: TrainingGroups = None) -> TrainState:
  """Fresh state on the host. image_shape: (S, S, 1); num_classes: training
  classes (the size of a classifier head, for methods that have one);
  training: the training groups (training_groups), for methods whose state
  starts from them (default: num_classes and no data)."""
  start = state_lib.initial(config.seed, model,
                            get_method(config.loss), image_shape,
                            training or no_training_groups(num_classes))
  return TrainState.create(
      apply_fn=model.apply, params={"encoder": start.encoder["params"],
                                    "head": start.head},
      batch_stats=start.encoder["batch_stats"], tx=create_optimizer(config),
      rng=start.rng, extra=start.method_state)


encoder_variables = state_lib.encoder_variables


def _augment(rng, images, augmentations: int, axis_name: str):
  """[B, S, S, 1] -> [A, B, S, S, 1]: A = augmentations random views, or the
  images themselves (A = 1) for augmentations = 0. The random draws are made
  for the global batch and sliced, so they do not depend on the number of
  devices."""
  if augmentations == 0:
    return images[None]
  b, n = images.shape[0], jax.lax.psum(1, axis_name)
  lo = jax.lax.axis_index(axis_name) * b
  out = []
  for key in jax.random.split(rng, augmentations):
    scale, shift = augment.random_affine_params(key, b * n)
    out.append(augment.random_affine(
        images, jax.lax.dynamic_slice_in_dim(scale, lo, b),
        jax.lax.dynamic_slice_in_dim(shift, lo, b)))
  return jnp.stack(out)


def train_step(state: TrainState, images: jax.Array, labels: jax.Array,
               group_ids: jax.Array, method: Method) -> tuple:
  """One step on this device's share of the global batch (inside pmap).

  images: [C * V * M / n, S, S, 1], this device's rows of the global batch
  [C, V, M] flattened in row-major order (sampler.shard; any leading shape
  that flattens to those rows is accepted); labels: [C] class ids of the
  global rows; group_ids: [C, V] their training-group ids.
  Embeddings are gathered over the devices so the method's loss sees the whole
  [A, C, V, M, D] batch; the gradients of that loss are averaged, and
  BatchNorm statistics are synchronised by the model. When n divides C the
  shares are whole classes, as they were before the batch was split by image.
  """
  images = images.reshape((-1,) + images.shape[-3:])
  (c, v), b = group_ids.shape, images.shape[0]
  m = b * jax.lax.psum(1, AXIS) // (c * v)
  rng = jax.random.fold_in(state.rng, state.step)
  x = _augment(rng, images, method.augmentations, AXIS)
  a = x.shape[0]
  x = x.reshape((a * b,) + x.shape[2:])
  as_local = lambda t: t.reshape((a, b) + t.shape[1:])  # [A, C*V*M/n, ...]
  gather = lambda t: jax.lax.all_gather(t, AXIS, axis=1, tiled=True).reshape(
      (a, c, v, m) + t.shape[2:])  # [A, C, V, M, ...]

  def encode(variables):
    """This step's images through other variables (no gradient)."""
    z, updates = state.apply_fn(variables, x, train=True,
                                mutable=["batch_stats"])
    z_local = jax.lax.stop_gradient(as_local(z))
    return gather(z_local), z_local, updates["batch_stats"]

  def compute_loss(params):
    z, updates = state.apply_fn(
        {"params": params["encoder"], "batch_stats": state.batch_stats}, x,
        train=True, mutable=["batch_stats", "intermediates"])
    aux = {k: gather(as_local(val[0])) for k, val in
           updates.get("intermediates", {}).items()}
    z_local = as_local(z)
    batch = Batch(z=gather(z_local), z_local=z_local, labels=labels,
                  group_ids=group_ids, aux=aux,
                  encode=encode, step=state.step, axis_name=AXIS)
    loss, (extra, metrics) = method.loss(params["head"], state.extra, batch)
    return loss, (updates["batch_stats"], extra, metrics)

  grads, (batch_stats, extra, metrics) = jax.grad(
      compute_loss, has_aux=True)(state.params)
  # Each device holds d(L)/d(its share) times n (all_gather's transpose sums
  # the n identical losses); the mean over devices is exactly dL/dparams.
  grads = jax.lax.pmean(grads, AXIS)
  state = state.apply_gradients(grads=grads, batch_stats=batch_stats)
  state = state.replace(extra=method.after_step(extra, state.params["encoder"]))
  metrics = dict(metrics, grad_norm=optax.tree.norm(grads))
  return state, metrics


class IndexedImages(NamedTuple):
  """A device-fed batch: this device's share of the batch as item ids into
  the images that live on it. table: sampler.ImageTable, replicated on every
  device (device_image_table); indices: [C * V * M / n] item ids
  (sampler.shard of sampler.indices)."""
  table: sampler_lib.ImageTable
  indices: jax.Array


def _images(x) -> jax.Array:
  """The step's float32 images: x itself, or gathered on the device from an
  IndexedImages. The barrier keeps XLA from fusing the uint8 -> float
  conversion into what follows, so the values are exactly the host's."""
  if not isinstance(x, IndexedImages):
    return x
  return jax.lax.optimization_barrier(
      sampler_lib.gather_images_on_device(x.table, x.indices))


def make_p_train_step(method: Method, devices=None,
                      precision: str = "highest"):
  """The pmapped train step over `devices` (default: every device of every
  process, so with jax.distributed the gather and the mean span all hosts),
  its matmuls and convolutions at `precision` (config.train.matmul_precision).
  Its images are float32 arrays [n_local, C*V*M / n, S, S, 1] or an
  IndexedImages (the device-fed loop); both give the same numbers."""
  def step(s, x, y, g):
    with jax.default_matmul_precision(precision):
      return train_step(s, _images(x), y, g, method)
  return jax.pmap(step, axis_name=AXIS, devices=devices, donate_argnums=(0,))


def local_rows(devices) -> np.ndarray:
  """Positions of this process's devices in the pmapped axis over `devices`."""
  return np.array([i for i, d in enumerate(devices)
                   if d.process_index == jax.process_index()])


def replicate(tree, devices=None):
  """Copies of `tree` on each device, laid out exactly as the pmapped step's
  outputs (jax_utils.replicate's layout differs and costs a second compile)."""
  devices = devices or jax.devices()
  n_local = len(local_rows(devices))
  stacked = jax.tree.map(lambda x: np.stack([np.asarray(x)] * n_local), tree)
  return jax.pmap(lambda x: x, axis_name=AXIS, devices=devices)(stacked)


def _first_shards(tree):
  """The shards on this process's first device of replicated arrays, left
  there (each shaped [1, ...] or as the replica)."""
  return jax.tree.map(lambda x: x.addressable_shards[0].data, tree)


def unreplicate(tree):
  """The replica on this process's first device, on the host (one
  device_get for the whole tree)."""
  return jax.tree.map(lambda x, h: np.asarray(h).reshape(x.shape[1:]), tree,
                      jax.device_get(_first_shards(tree)))


# Images per device the automatic choice (data.on_device="auto") puts on a
# device: at most this many bytes, and at most DEVICE_IMAGES_FRACTION of the
# memory the device reports (accelerators; a CPU device reports none).
# Omniglot at 28 px is 15 MB; at 105 px 215 MB (background) / 358 MB (both
# splits, the Vinyals splits).
DEVICE_IMAGES_MAX_BYTES = 1 << 30
DEVICE_IMAGES_FRACTION = 0.25
ON_DEVICE = sampler_lib.ON_DEVICE


def images_on_device(setting: str, nbytes: int, device) -> bool:
  """Whether training images of `nbytes` (per device) live on the devices:
  setting is config.data.on_device (auto | always | never)."""
  if setting not in ON_DEVICE:
    raise validation.ConfigError(
        f"config.data.on_device={setting!r} is not one of {ON_DEVICE}: auto "
        f"(on the devices when the images fit), always, never (the host "
        f"gathers each batch).")
  if setting != "auto":
    return setting == "always"
  limit = DEVICE_IMAGES_MAX_BYTES
  try:
    stats = device.memory_stats() or {}
  except Exception:  # pylint: disable=broad-except
    stats = {}
  if stats.get("bytes_limit"):
    limit = min(limit, int(DEVICE_IMAGES_FRACTION * stats["bytes_limit"]))
  return nbytes <= limit


@jax.jit
def _stack_steps(per_step):
  return {k: jnp.stack([m[k].reshape(m[k].shape[1:]) for m in per_step])
          for k in per_step[0]}


def fetch_metrics(pending) -> dict:
  """{name: [steps, ...] values} of the pmapped step's metrics of several
  steps (each replicated over the devices), stacked on this process's first
  device and read in one device_get."""
  return jax.device_get(_stack_steps([_first_shards(m) for m in pending]))


def mean_metrics(pending) -> dict:
  """{name: float} the means over the pending steps' metrics."""
  return {k: float(np.mean(v)) for k, v in fetch_metrics(pending).items()}


def device_image_table(config, data, groups, devices):
  """The training images as sampler.ImageTable, replicated on this process's
  devices, when config.data.on_device puts them there (auto: when they fit,
  images_on_device); None to feed the step from the host."""
  setting = config.data.get("on_device", "auto")
  if not images_on_device(setting, sampler_lib.image_table_bytes(
      data.images, groups), devices[0]):
    return None
  return replicate(sampler_lib.image_table(data.images, groups), devices)


# --------------------------------------------------------------------------
# The loop.
# --------------------------------------------------------------------------
def _log_metrics(workdir: str, writer, step: int, metrics: dict,
                 kind: str = "train") -> None:
  logs.append(workdir, kind, step, metrics)
  if writer is not None:
    for k, v in metrics.items():
      writer.add_scalar(f"{kind}/{k}", v, step)
    writer.flush()


def train(config: ml_collections.ConfigDict, workdir: str) -> TrainState:
  """Trains config in workdir, resuming from its latest checkpoint."""
  validation.validate(config)
  # config.num_devices of every process's devices; this one feeds its own.
  devices = platform.training_devices(config.num_devices)
  n, rows = len(devices), local_rows(devices)
  lead = jax.process_index() == 0  # the one process that writes logs
  validation.validate_devices(config, n)
  data, sampler = pipeline.train_data(config)
  dropped = pipeline.dropped_classes_note(config, data, sampler)
  if dropped and lead:
    print(f"grouprep: note: {dropped}", file=sys.stderr, flush=True)
  try:
    os.makedirs(workdir, exist_ok=True)
    probe = os.path.join(workdir, f".write_test.{os.getpid()}")  # per process
    with open(probe, "w"):
      pass
    os.remove(probe)
  except OSError as e:
    raise checkpoints.CheckpointError(
        f"Cannot write to --workdir={workdir}: {e}") from e

  # ---- State, restored from the latest checkpoint when there is one. ----
  model = models.create_model(config.model, axis_name=AXIS)
  image_shape = (config.data.image_size, config.data.image_size, 1)
  config_dict = config.to_dict()
  mngr = checkpoints.manager(workdir, config.train.keep_checkpoints,
                             async_save=True)
  # A method's data-dependent start (the prototype table's pass over the
  # training split) only when there is no checkpoint to restore.
  state = create_train_state(
      config, model, image_shape,
      training=training_groups(config, data, sampler.groups,
                               placeholder=bool(mngr.all_steps())))
  step, restored = checkpoints.restore_latest(mngr, state, config_dict)
  checkpoints.agree_on_step(step, mngr.directory)  # before any delete
  # Saved with every checkpoint: what sizes the heads and tables (the
  # training classes and groups), so grouprep.load needs no dataset.
  metadata = {"num_classes": int(sampler.groups.num_classes),
              "num_training_groups": int(sampler.groups.num_groups),
              "dataset": pipeline.dataset_summary(config, data),
              "matmul_precision": config.train.matmul_precision,
              "stack": platform.stack()}
  if restored is not None:
    checkpoints.check_dataset(checkpoints.read_metadata(mngr, step),
                              metadata["dataset"], mngr.directory, step)
    state = restored
    for newer in [s for s in mngr.all_steps() if s > step]:
      tqdm.write(f"Removing the unreadable checkpoint of step {newer}.")
      mngr.delete(newer)
    tqdm.write(f"Resumed from the checkpoint at step {step} in {mngr.directory}.")
  start = int(state.step)
  num_steps = config.train.num_steps
  if start >= num_steps:
    tqdm.write(f"Already trained to step {start} of {num_steps}.")
    mngr.close()
    return state

  p_train_step = make_p_train_step(get_method(config.loss), devices,
                                   config.train.matmul_precision)
  state = replicate(state, devices)
  item_class = sampler.groups.group_class[sampler.groups.item_group]
  table = device_image_table(config, data, sampler.groups, devices)

  def batch(step):
    """This process's shares of the global batch (sampler.shard): item ids
    into the images on the devices (IndexedImages, [n_local, C*V*M / n]) or,
    fed by the host, their pixels [n_local, C*V*M / n, S, S, 1]; the class
    ids of all C rows, [n_local, C], and their group ids, [n_local, C, V]."""
    indices = sampler.indices(step)
    share = sampler_lib.shard(indices, n)[rows]
    if table is None:
      images = sampler_lib.gather_images(data.images, sampler.groups, share)
    else:
      images = IndexedImages(table, share.astype(np.int32))
    labels = np.broadcast_to(item_class[indices[:, 0, 0]],
                             (len(rows), len(indices)))
    group_ids = sampler.groups.item_group[indices[:, :, 0]]
    return images, labels, np.broadcast_to(group_ids,
                                           (len(rows),) + group_ids.shape)

  writer = None
  if lead:
    try:
      import tensorboardX  # pylint: disable=g-import-not-at-top
      writer = tensorboardX.SummaryWriter(os.path.join(workdir, "tensorboard"))
    except ImportError:
      logging.warning("tensorboardX is not installed: no TensorBoard logs.")

  # ---- Few-shot accuracy during training (process 0): the time curve. ----
  periodic_eval, eval_s = None, 0.0
  if config.eval.every and lead:
    periodic_eval = evaluate.make_periodic_eval(
        config, models.create_model(config.model))

  def run_periodic_eval(step, host_state, wall_s):
    accuracy = periodic_eval(encoder_variables(host_state),
                             host_state.params["head"])
    tqdm.write(f"step {step} ({wall_s:.0f}s of training): " + ", ".join(
        f"{k}={v:.4f}" for k, v in accuracy.items()))
    _log_metrics(workdir, writer, step, dict(accuracy, wall_s=wall_s), "eval")

  # ---- Loop. Steps are dispatched ahead of the device: the host waits for
  # it only to read a log line's metrics (once) and a checkpoint's state. ----
  fed = "images on the devices" if table is not None else "fed by the host"
  tqdm.write(f"Training {config.name} from step {start} to {num_steps} on {n} "
             f"{devices[0].platform} device(s), {fed}; workdir {workdir}.")
  t0, wall_before = time.time(), logs.wall_seconds_before(workdir, start)
  if periodic_eval and start == 0:
    te = time.time()
    run_periodic_eval(0, unreplicate(state), 0.0)
    eval_s += time.time() - te
  next_batch = batch(start)
  # Redrawn every second on a terminal; in a log file (nohup, CI) every 30 s.
  bar = tqdm(total=num_steps, initial=start, desc=config.name,
             dynamic_ncols=True, disable=not lead,
             mininterval=1.0 if sys.stderr.isatty() else 30.0)
  pending = []  # per-step metrics (on device) since the last log line
  # Host work on what was read (writing a log line, handing a checkpoint to
  # Orbax), done once the next step is queued, so the device does not wait
  # for it; whatever is left runs on the way out, a crash included.
  later = []

  def write_log_line(done, metrics):
    if lead:
      bar.set_postfix(loss=f"{metrics['loss']:.4f}")
      tqdm.write(f"step {done}: " + ", ".join(
          f"{k}={v:.4g}" for k, v in metrics.items()))
      _log_metrics(workdir, writer, done, metrics)

  try:
    for step in range(start, num_steps):
      state, step_metrics = p_train_step(state, *next_batch)
      pending.append(step_metrics)
      while later:
        later.pop(0)()
      done = step + 1
      bar.update(1)
      log_due = done % config.train.log_every == 0 or done == num_steps
      save_due = done % config.train.checkpoint_every == 0 or done == num_steps
      if log_due or save_due:
        # Means over the steps since the last log line. Checked before every
        # save too: a non-finite state is never checkpointed.
        metrics = mean_metrics(pending)
        if not all(np.isfinite(v) for v in metrics.values()):
          raise NonFiniteLossError(
              f"Non-finite training metrics at step {done}: {metrics}. The "
              f"last good checkpoint in {mngr.directory} is kept.")
      if log_due:
        pending = []
        train_s = time.time() - t0 - eval_s
        metrics["steps_per_s"] = (done - start) / train_s
        metrics["wall_s"] = wall_before + train_s
        metrics["num_devices"] = n
        later.append(functools.partial(write_log_line, done, metrics))
      if save_due:  # a host copy, written in the background
        later.append(functools.partial(
            checkpoints.save, mngr, done, unreplicate(state), config_dict,
            metadata))
      if periodic_eval and (done % config.eval.every == 0 or done == num_steps):
        te = time.time()
        run_periodic_eval(done, unreplicate(state),
                          wall_before + te - t0 - eval_s)
        eval_s += time.time() - te
      if done < num_steps:
        next_batch = batch(done)
  finally:
    try:
      while later:
        later.pop(0)()
      checkpoints.finish(mngr)  # a started save completes, even on a crash
    finally:
      bar.close()
      mngr.close()
      if writer is not None:
        writer.close()
  tqdm.write(f"Trained {num_steps - start} steps in {time.time() - t0:.1f}s.")
  return unreplicate(state)
