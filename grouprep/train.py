"""Training: the train state, the pmapped step, the loop and its checkpoints."""
import functools
import os
import sys
import time
from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
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
from grouprep.data import folder
from grouprep.data import sampler as sampler_lib
from grouprep.data.sources import registry as sources
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


def training_data(config):
  """(source, its training data, their C x V x M sampler) of config.data.
  A loss that pools groups contrasts V of a class: it needs at least
  max(2, V) groups of each (a source whose classes may lack them says so)."""
  d = config.data
  source = sources.get(d, config.seed)
  need = (max(2, d.groups_per_class)
          if get_method(config.loss).pools_in_loss else 1)
  data = source.train_data(
      need, f"loss.name={config.loss.name!r} contrasts "
      f"data.groups_per_class={d.groups_per_class} groups of a label")
  sampler = sampler_lib.Sampler(
      data.groups, classes_per_batch=d.classes_per_batch,
      groups_per_class=d.groups_per_class,
      items_per_group=d.items_per_group, seed=config.seed)
  return source, data, sampler


def dropped_classes_note(data, sampler: sampler_lib.Sampler,
                         data_config) -> Optional[str]:
  """A one-line note naming the training classes the sampler never draws
  (fewer than V groups of at least M items), or None."""
  dropped = sampler.dropped_classes
  if not len(dropped):
    return None
  names = data.class_names
  shown = [str(c) if names is None else repr(names[c]) for c in dropped]
  total = len(np.unique(sampler.groups.group_class))
  return (f"{len(dropped)} of the {total} training {data.class_kind} have "
          f"fewer than data.groups_per_class={data_config.groups_per_class} "
          f"groups of at least data.items_per_group="
          f"{data_config.items_per_group} items and are left out of "
          f"training: {folder.first_few(shown)}.")


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
# The loop's parts.
# --------------------------------------------------------------------------
def check_writable(workdir: str) -> None:
  """A CheckpointError now, not at the first save, when workdir cannot be
  written (each process probes with its own file)."""
  try:
    os.makedirs(workdir, exist_ok=True)
    probe = os.path.join(workdir, f".write_test.{os.getpid()}")
    with open(probe, "w"):
      pass
    os.remove(probe)
  except OSError as e:
    raise checkpoints.CheckpointError(
        f"Cannot write to --workdir={workdir}: {e}") from e


def checkpoint_metadata(config, source, sampler) -> dict:
  """Saved with every checkpoint: what sizes the heads and tables (the
  training classes and groups), so grouprep.load needs no dataset; the
  source's summary of the data; the precision and the stack it trained on."""
  return {"num_classes": int(sampler.groups.num_classes),
          "num_training_groups": int(sampler.groups.num_groups),
          "dataset": source.summary(),
          "matmul_precision": config.train.matmul_precision,
          "stack": platform.stack()}


def restore_or_initialise(config, model, mngr, data, sampler,
                          metadata: dict) -> TrainState:
  """The state on the host: the latest checkpoint's (of this config and
  these data; newer unreadable ones deleted), else a fresh one. A method's
  data-dependent start (the prototype table's pass over the training
  split) is made only when there is no checkpoint to restore."""
  size = config.data.image_size
  state = create_train_state(
      config, model, (size, size, 1),
      training=training_groups(config, data, sampler.groups,
                               placeholder=bool(mngr.all_steps())))
  step, restored = checkpoints.restore_latest(mngr, state, config.to_dict())
  checkpoints.agree_on_step(step, mngr.directory)  # before any delete
  if restored is None:
    return state
  checkpoints.check_dataset(checkpoints.read_metadata(mngr, step),
                            metadata["dataset"], mngr.directory, step)
  for newer in [s for s in mngr.all_steps() if s > step]:
    tqdm.write(f"Removing the unreadable checkpoint of step {newer}.")
    mngr.delete(newer)
  tqdm.write(f"Resumed from the checkpoint at step {step} in {mngr.directory}.")
  return restored


def make_batches(data, sampler: sampler_lib.Sampler, devices, table):
  """fn(step) -> this process's shares of the global batch of `step`
  (sampler.shard): item ids into the images on the devices (IndexedImages,
  [n_local, C*V*M / n]; table: device_image_table's) or, fed by the host
  (table None), their pixels [n_local, C*V*M / n, S, S, 1]; the class ids
  of all C rows, [n_local, C], and their group ids, [n_local, C, V]."""
  n, rows = len(devices), local_rows(devices)
  groups = sampler.groups
  item_class = groups.group_class[groups.item_group]

  def batch(step):
    indices = sampler.indices(step)
    share = sampler_lib.shard(indices, n)[rows]
    if table is None:
      images = sampler_lib.gather_images(data.images, groups, share)
    else:
      images = IndexedImages(table, share.astype(np.int32))
    labels = np.broadcast_to(item_class[indices[:, 0, 0]],
                             (len(rows), len(indices)))
    group_ids = groups.item_group[indices[:, :, 0]]
    return images, labels, np.broadcast_to(group_ids,
                                           (len(rows),) + group_ids.shape)

  return batch


class LogWriters:
  """The run's logs, written by the lead process alone: train_log.jsonl /
  eval_log.jsonl (logs.py), TensorBoard, the progress bar (redrawn every
  second on a terminal, every 30 s in a log file) and a line per entry."""

  def __init__(self, config, workdir: str, start: int, lead: bool):
    import tensorboardX  # pylint: disable=g-import-not-at-top
    self.workdir, self.lead = workdir, lead
    self.tensorboard = (tensorboardX.SummaryWriter(
        os.path.join(workdir, "tensorboard")) if lead else None)
    self.bar = tqdm(total=config.train.num_steps, initial=start,
                    desc=config.name, dynamic_ncols=True, disable=not lead,
                    mininterval=1.0 if sys.stderr.isatty() else 30.0)

  def write(self, step: int, metrics: dict, kind: str = "train",
            line: str = "") -> None:
    """Logs metrics {name: float} of `kind` ("train" | "eval") at step."""
    if not self.lead:
      return
    if kind == "train":
      self.bar.set_postfix(loss=f"{metrics['loss']:.4f}")
    tqdm.write(line or f"step {step}: " + ", ".join(
        f"{k}={v:.4g}" for k, v in metrics.items()))
    logs.append(self.workdir, kind, step, metrics)
    for k, v in metrics.items():
      self.tensorboard.add_scalar(f"{kind}/{k}", v, step)
    self.tensorboard.flush()

  def close(self) -> None:
    self.bar.close()
    if self.tensorboard is not None:
      self.tensorboard.close()


class PeriodicEval:
  """The evaluation during training (config.eval.every steps, on the lead
  process; evaluate.make_periodic_eval): its scalars logged against the
  training wall time, which its own seconds (`seconds`) are kept out of."""

  def __init__(self, config, writers: LogWriters):
    self.every, self.writers, self.seconds = config.eval.every, writers, 0.0
    self.run = evaluate.make_periodic_eval(config,
                                           models.create_model(config.model))

  def due(self, step: int, num_steps: int) -> bool:
    return step % self.every == 0 or step == num_steps

  def __call__(self, step: int, state, wall_s: float) -> None:
    """Evaluates the replicated `state` at `step`."""
    t0 = time.time()
    host = unreplicate(state)
    scores = self.run(encoder_variables(host), host.params["head"])
    self.writers.write(step, dict(scores, wall_s=wall_s), "eval",
                       f"step {step} ({wall_s:.0f}s of training): " +
                       ", ".join(f"{k}={v:.4f}" for k, v in scores.items()))
    self.seconds += time.time() - t0


def check_finite(metrics: dict, step: int, where: str) -> None:
  """A NonFiniteLossError unless every metric is finite: a non-finite state
  is never checkpointed (the last good checkpoint in `where` is kept)."""
  if not all(np.isfinite(v) for v in metrics.values()):
    raise NonFiniteLossError(
        f"Non-finite training metrics by step {step} (checked at each log "
        f"line and save, over the steps since the last): {metrics}. The "
        f"last good checkpoint in {where} is kept.", step=step)


# --------------------------------------------------------------------------
# The loop.
# --------------------------------------------------------------------------
def train(config: ml_collections.ConfigDict, workdir: str) -> TrainState:
  """Trains config in workdir, resuming from its latest checkpoint."""
  validation.validate(config)
  # config.num_devices of every process's devices; this one feeds its own.
  devices = platform.training_devices(config.num_devices)
  lead = jax.process_index() == 0  # the one process that writes logs
  validation.validate_devices(config, len(devices))
  source, data, sampler = training_data(config)
  dropped = dropped_classes_note(data, sampler, config.data)
  if dropped and lead:
    print(f"grouprep: note: {dropped}", file=sys.stderr, flush=True)
  check_writable(workdir)

  # ---- The state: the latest checkpoint's, else a fresh one. ----
  metadata = checkpoint_metadata(config, source, sampler)
  mngr = checkpoints.manager(workdir, config.train.keep_checkpoints,
                             async_save=True)
  model = models.create_model(config.model, axis_name=AXIS)
  state = restore_or_initialise(config, model, mngr, data, sampler, metadata)
  start, num_steps = int(state.step), config.train.num_steps
  if start >= num_steps:
    tqdm.write(f"Already trained to step {start} of {num_steps}.")
    mngr.close()
    return state

  # ---- The step, its batches, the logs, the evaluation during training. ----
  p_train_step = make_p_train_step(get_method(config.loss), devices,
                                   config.train.matmul_precision)
  state = replicate(state, devices)
  table = device_image_table(config, data, sampler.groups, devices)
  batch = make_batches(data, sampler, devices, table)
  writers = LogWriters(config, workdir, start, lead)
  periodic_eval = (PeriodicEval(config, writers)
                   if config.eval.every and lead else None)
  fed = "images on the devices" if table is not None else "fed by the host"
  tqdm.write(f"Training {config.name} from step {start} to {num_steps} on "
             f"{len(devices)} {devices[0].platform} device(s), {fed}; "
             f"workdir {workdir}.")
  t0, wall_before = time.time(), logs.wall_seconds_before(workdir, start)
  train_seconds = lambda: time.time() - t0 - (
      periodic_eval.seconds if periodic_eval else 0.0)
  if periodic_eval and start == 0:
    periodic_eval(0, state, 0.0)

  # ---- Loop. Steps are dispatched ahead of the device: the host waits for
  # it only to read a log line's metrics (once) and a checkpoint's state.
  # Host work on what was read (a log line, handing a checkpoint to Orbax)
  # waits in `later` until the next step is queued; whatever is left runs
  # on the way out, a crash included. ----
  next_batch, pending, later = batch(start), [], []
  try:
    for step in range(start, num_steps):
      state, step_metrics = p_train_step(state, *next_batch)
      pending.append(step_metrics)  # on the device, since the last log line
      while later:
        later.pop(0)()
      done = step + 1
      writers.bar.update(1)
      log_due = done % config.train.log_every == 0 or done == num_steps
      save_due = done % config.train.checkpoint_every == 0 or done == num_steps
      if log_due or save_due:
        metrics = mean_metrics(pending)
        check_finite(metrics, done, mngr.directory)
      if log_due:
        pending, seconds = [], train_seconds()
        metrics.update(steps_per_s=(done - start) / seconds,
                       wall_s=wall_before + seconds, num_devices=len(devices))
        later.append(functools.partial(writers.write, done, metrics))
      if save_due:  # a host copy, written in the background
        later.append(functools.partial(
            checkpoints.save, mngr, done, unreplicate(state),
            config.to_dict(), metadata))
      if periodic_eval and periodic_eval.due(done, num_steps):
        periodic_eval(done, state, wall_before + train_seconds())
      if done < num_steps:
        next_batch = batch(done)
  finally:
    try:
      while later:
        later.pop(0)()
      checkpoints.finish(mngr)  # a started save completes, even on a crash
    finally:
      writers.close()
      mngr.close()
  tqdm.write(f"Trained {num_steps - start} steps in {time.time() - t0:.1f}s.")
  return unreplicate(state)
