"""The pmapped step (2 devices == 1 device), checkpoints and resume, bad input."""
import json
import os

import jax
import numpy as np
import pytest

from conftest import fake_split, tiny_config
from grouprep import checkpoints
from grouprep.methods.interface import TrainingGroups
from grouprep.methods.registry import get_method
from grouprep import models
from grouprep import train
from grouprep import validation
from grouprep.data import groups as groups_lib
from grouprep.data import omniglot
from grouprep.data import sampler as sampler_lib


def leaves(tree):
  return [np.asarray(x) for x in jax.tree.leaves(tree)]


def run_steps_on(n, config, state, batch, labels, steps=2, group_ids=None):
  """`steps` pmapped steps on the first n devices -> (metrics, replicated state).
  group_ids: [C, V] (default: class c's views are groups V*c .. V*c+V-1)."""
  devices = jax.local_devices()[:n]
  step = train.make_p_train_step(get_method(config.loss), devices)
  s = train.replicate(state, devices)
  c, v = batch.shape[:2]
  if group_ids is None:
    group_ids = np.arange(c * v).reshape(c, v)
  for _ in range(steps):
    s, metrics = step(s, sampler_lib.shard(batch, n),
                      np.broadcast_to(labels, (n, len(labels))),
                      np.broadcast_to(group_ids, (n, c, v)))
  return metrics, s


def assert_n_devices_equal_one(name, c=4, m=None, n=2, training=None,
                               v=None):
  """Two steps of tiny config `name` on a random [C, V, M] batch give the same
  loss, gradient norm, params and BatchNorm statistics on n devices as on
  one; the replicas agree. m: items per group (at most the config's:
  protonet keeps 1).
  training: TrainingGroups for methods whose state starts from them
  (group ids then 2 * label + view)."""
  config = tiny_config(name)
  config.data.classes_per_batch = c
  if v is not None:
    config.data.groups_per_class = v
  if m is not None:
    config.data.items_per_group = min(m, config.data.items_per_group)
  if name in ("triplet", "protonet", "gi_centroid_prototypes"):
    # Distances ignore a shift of every embedding, so the last BatchNorm's
    # bias has a gradient of ~0: float noise that Adam would scale to +-lr
    # (prototype candidates: updates proportional to the gradients).
    config.train.optimizer = "sgd"
  assert len(jax.local_devices()) >= n, "conftest asks XLA for 2 CPU devices"
  v, m = config.data.groups_per_class, config.data.items_per_group
  model = models.create_model(config.model, axis_name=train.AXIS)
  state = train.create_train_state(config, model, (16, 16, 1), num_classes=9,
                                   training=training)
  batch = np.random.default_rng(0).random((c, v, m, 16, 16, 1), np.float32)
  labels = np.array([3, 0, 8, 5, 1, 7, 2, 6][:c])
  group_ids = None if training is None else np.stack(
      [2 * labels + j for j in range(v)], axis=1)
  results = []
  for devices in (1, n):
    metrics, s = run_steps_on(devices, config, state, batch, labels,
                              group_ids=group_ids)
    results.append((float(metrics["loss"][0]), float(metrics["grad_norm"][0]),
                    train.unreplicate(s)))
    if devices == n:  # replicas agree
      for leaf in jax.tree.leaves(s.params):
        for r in range(1, n):
          np.testing.assert_allclose(leaf[0], leaf[r], rtol=1e-6, atol=1e-7)
  (loss1, norm1, s1), (loss2, norm2, s2) = results
  assert loss1 == pytest.approx(loss2, rel=1e-5)
  # Adam's update hardly sees a gradient scaled by n (a psum for a pmean):
  # the gradient's norm does.
  assert norm1 == pytest.approx(norm2, rel=1e-4)
  # atol 5e-6, 0.5 % of one Adam step (lr 1e-3): a parameter whose gradient
  # is mostly float noise moves by a noise-dependent fraction of the step
  # (groupface, jaxlib 0.10.1: 1.9e-6 apart; 0.10.2 and 0.12: within 1e-6).
  for a, b in zip(leaves(s1.params), leaves(s2.params)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=5e-6)
  for a, b in zip(leaves(s1.batch_stats), leaves(s2.batch_stats)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
  for a, b in zip(leaves(s1.extra), leaves(s2.extra)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
  assert int(s1.step) == int(s2.step) == 2
  # The update moved the parameters (the comparison is not vacuous).
  assert any(not np.allclose(a, b) for a, b in
             zip(leaves(state.params), leaves(s1.params)))


@pytest.mark.multi_device
@pytest.mark.parametrize("name", ["gi_centroid", "gg_medoid",
                                  "gi_set_transformer"] + [
    pytest.param(n, marks=pytest.mark.slow) for n in
    ("triplet", "item_item", "groupface", "group_loss", "gi_attention",
     "gi_centroid_augmented", "gg_set_transformer")])
def test_pmap_on_two_devices_equals_one_device(name):
  assert_n_devices_equal_one(name)


def prototype_training_groups():
  """9 classes x 2 groups (ids 2k, 2k + 1), random unit start prototypes."""
  rng = np.random.default_rng(3)
  table = rng.normal(size=(18, 8)).astype(np.float32)  # D = width 8
  table /= np.linalg.norm(table, axis=1, keepdims=True)
  return TrainingGroups(9, np.repeat(np.arange(9), 2),
                        lambda encoder, pool_params: table)


@pytest.mark.multi_device
@pytest.mark.parametrize("name", ["gi_centroid", "protonet"] + [
    pytest.param(n, marks=pytest.mark.slow) for n in
    ("gg_medoid", "triplet", "groupface", "group_loss", "gi_attention",
     "gi_centroid_augmented", "gi_centroid_prototypes")])
def test_classes_cut_between_devices_equal_one_device(name):
  """C = 3 classes on 2 devices: the batch is split by image, C*V*M/2 each
  (9 with V = 2, M = 3), so class 1 straddles the devices (its groups stay
  whole: tests/test_devices.py cuts one); the step equals one device's.
  Prototype candidates pool each device's groups, so they keep M = 4 (whole
  groups, 12 images each)."""
  prototypes = name == "gi_centroid_prototypes"
  training = prototype_training_groups() if prototypes else None
  m = 4 if prototypes else None
  assert_n_devices_equal_one(name, c=3, m=m or 3, training=training)


def test_loss_augment_gives_one_random_view_of_each_image():
  """config.loss.augment: the step encodes one random affine view of each
  image (data/augment.py) instead of the image; a method of two views
  refuses it."""
  from grouprep.data import augment  # pylint: disable=g-import-not-at-top
  assert get_method(tiny_config("gi_centroid").loss).augmentations == 0
  assert get_method(tiny_config(
      "gi_centroid_augmented").loss).augmentations == 1
  two_views = tiny_config("item_item")
  two_views.loss.augment = True
  with pytest.raises(validation.ConfigError, match="already trains on random"):
    validation.validate(two_views)
  # The view is augment.random_affine of the image, drawn from the step's
  # key exactly as for the two-view methods.
  images = np.random.default_rng(0).random((6, 16, 16, 1), np.float32)
  rng = jax.random.PRNGKey(3)
  views = lambda a: jax.pmap(
      lambda x: train._augment(rng, x, a, train.AXIS),  # pylint: disable=protected-access
      axis_name=train.AXIS, devices=jax.local_devices()[:1])(images[None])[0]
  np.testing.assert_array_equal(views(0), images[None])
  scale, shift = augment.random_affine_params(jax.random.split(rng, 1)[0], 6)
  np.testing.assert_allclose(
      views(1), augment.random_affine(images, scale, shift)[None],
      rtol=1e-6, atol=1e-6)
  assert not np.allclose(views(1)[0], images, atol=1e-2)


@pytest.mark.slow
def test_loss_augment_changes_what_a_step_trains():
  plain, augmented = tiny_config("gi_centroid"), tiny_config(
      "gi_centroid_augmented")
  model = models.create_model(plain.model, axis_name=train.AXIS)
  state = train.create_train_state(plain, model, (16, 16, 1), num_classes=9)
  batch = np.random.default_rng(1).random(
      (4, plain.data.groups_per_class, 4, 16, 16, 1), np.float32)
  labels = np.array([3, 0, 8, 5])
  _, s_plain = run_steps_on(1, plain, state, batch, labels, steps=1)
  _, s_aug = run_steps_on(1, augmented, state, batch, labels, steps=1)
  assert any(not np.allclose(a, b) for a, b in zip(
      leaves(train.unreplicate(s_plain).params),
      leaves(train.unreplicate(s_aug).params)))


@pytest.mark.multi_device
@pytest.mark.slow
def test_smog_prototypes_are_synchronous_across_devices():
  """SMoG's prototypes after a step: identical on both replicas and equal to
  one device's on the same global batch (sums and counts span the devices)."""
  config = tiny_config("smog")
  config.loss.regroup_every = 2  # k-means runs inside the three steps
  config.loss.num_prototypes = 4  # <= the 8 remembered embeddings by then
  model = models.create_model(config.model, axis_name=train.AXIS)
  state = train.create_train_state(config, model, (16, 16, 1))
  batch = np.random.default_rng(1).random((8, 1, 1, 16, 16, 1), np.float32)
  labels = np.arange(8)
  out = {}
  for n in (1, 2):
    metrics, s = run_steps_on(n, config, state, batch, labels, steps=3)
    protos = np.asarray(s.extra["prototypes"])
    if n == 2:
      np.testing.assert_array_equal(protos[0], protos[1])
    out[n] = (protos[0], train.unreplicate(s), float(metrics["loss"][0]))
  np.testing.assert_allclose(out[1][0], out[2][0], rtol=1e-5, atol=1e-6)
  assert out[1][2] == pytest.approx(out[2][2], rel=1e-5)
  for a, b in zip(leaves(out[1][1].params), leaves(out[2][1].params)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
  for a, b in zip(leaves(out[1][1].extra["momentum_encoder"]),
                  leaves(out[2][1].extra["momentum_encoder"])):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
  # The prototypes moved: the test is not vacuous.
  assert not np.allclose(out[1][0], np.asarray(state.extra["prototypes"]))


def test_checkpoint_restores_the_identical_state(tmp_path, fake_data):
  config = tiny_config()
  state = train.train(config, str(tmp_path))
  model = models.create_model(config.model)
  fresh = train.create_train_state(config, model, (16, 16, 1))
  mngr = checkpoints.manager(str(tmp_path))
  step, restored = checkpoints.restore_latest(mngr, fresh, config.to_dict())
  assert step == config.train.num_steps == int(restored.step)
  for a, b in zip(leaves(state), leaves(restored)):
    np.testing.assert_array_equal(a, b)
  assert sorted(mngr.all_steps()) == [2, 4, 6]


@pytest.mark.slow
@pytest.mark.parametrize("on_device", ["always", "never"])
def test_interrupted_run_resumes_at_the_right_step(tmp_path, fake_data,
                                                   monkeypatch, on_device):
  config = tiny_config()
  config.data.on_device = on_device
  full = train.train(config, str(tmp_path / "full"))

  real_indices, calls = sampler_lib.Sampler.indices, []

  def dying_indices(*args):
    calls.append(1)
    if len(calls) == 5:  # the batch of step 4: steps 0..3 ran, 4 saved
      raise KeyboardInterrupt
    return real_indices(*args)

  monkeypatch.setattr(sampler_lib.Sampler, "indices", dying_indices)
  with pytest.raises(KeyboardInterrupt):
    train.train(config, str(tmp_path / "cut"))
  monkeypatch.setattr(sampler_lib.Sampler, "indices", real_indices)
  mngr = checkpoints.manager(str(tmp_path / "cut"))
  assert mngr.latest_step() == 4
  log = [json.loads(l) for l in open(tmp_path / "cut" / "train_log.jsonl")]
  assert [r["step"] for r in log] == [2, 4]
  resumed = train.train(config, str(tmp_path / "cut"))
  log = [json.loads(l) for l in open(tmp_path / "cut" / "train_log.jsonl")]
  assert [r["step"] for r in log] == [2, 4, 6]  # resumed at 4, not at 0
  for a, b in zip(leaves(full.params), leaves(resumed.params)):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


# --------------------------------------------------------------------------
# The device-fed loop: images on the devices, metrics read once per log line.
# --------------------------------------------------------------------------
def host_and_device_batches(n, c=3, m=3, steps=3, v=2):
  """(host-fed, device-fed, labels, group ids) of `steps` sampled batches of
  a fake split on n devices: the host's gather_images (the reference) and
  IndexedImages into the images replicated on the devices."""
  data = fake_split(size=16)
  groups = groups_lib.build_groups(data.alphabet, np.arange(len(data)))
  smp = sampler_lib.Sampler(groups, c, v, m, seed=0)
  table = train.replicate(sampler_lib.image_table(data.images, groups),
                          jax.local_devices()[:n])
  item_class = groups.group_class[groups.item_group]
  for step in range(steps):
    idx = smp.indices(step)
    share = sampler_lib.shard(idx, n)
    yield (sampler_lib.gather_images(data.images, groups, share),
           train.IndexedImages(table, share.astype(np.int32)),
           np.broadcast_to(item_class[idx[:, 0, 0]], (n, c)),
           np.broadcast_to(groups.item_group[idx[:, :, 0]], (n, c, v)))


@pytest.mark.multi_device
@pytest.mark.parametrize("name", ["gi_centroid", "gi_centroid_augmented"])
def test_device_fed_steps_equal_host_fed_steps_bit_for_bit(name):
  """Three steps on 2 devices, C*V*M = 3*2*3 images (a class and a group cut
  between the devices; the augmented config's random views sliced per
  device): gathering on the device by index gives the parameters, BatchNorm
  statistics, optimizer state and metrics of the host-fed step, bit for
  bit."""
  config = tiny_config(name)
  n, devices = 2, jax.local_devices()[:2]
  model = models.create_model(config.model, axis_name=train.AXIS)
  state = train.create_train_state(config, model, (16, 16, 1), num_classes=6)
  step = train.make_p_train_step(get_method(config.loss), devices)
  host, dev = train.replicate(state, devices), train.replicate(state, devices)
  for images, indexed, labels, group_ids in host_and_device_batches(n):
    assert images.shape == (n, 9, 16, 16, 1)
    host, m_host = step(host, images, labels, group_ids)
    dev, m_dev = step(dev, indexed, labels, group_ids)
    for k in m_host:
      np.testing.assert_array_equal(np.asarray(m_host[k]),
                                    np.asarray(m_dev[k]), err_msg=k)
  host, dev = train.unreplicate(host), train.unreplicate(dev)
  assert int(host.step) == int(dev.step) == 3
  for a, b in zip(leaves(host), leaves(dev)):
    np.testing.assert_array_equal(a, b)
  assert any(not np.array_equal(a, b) for a, b in
             zip(leaves(state.params), leaves(host.params)))


@pytest.mark.slow
def test_device_fed_and_host_fed_runs_are_identical(tmp_path, fake_data):
  """train.train with the images on the devices and fed by the host: the
  same log lines (timings aside) and the same final state, bit for bit."""
  runs = {}
  for on_device in ("always", "never"):
    config = tiny_config("gi_centroid_augmented")
    config.data.on_device = on_device
    state = train.train(config, str(tmp_path / on_device))
    log = [json.loads(l) for l in open(tmp_path / on_device /
                                       "train_log.jsonl")]
    runs[on_device] = state, [{k: v for k, v in r.items() if k not in (
        "wall_s", "steps_per_s")} for r in log]
  assert runs["always"][1] == runs["never"][1]
  for a, b in zip(leaves(runs["always"][0]), leaves(runs["never"][0])):
    np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_evaluation_during_training_leaves_the_training_alone(tmp_path,
                                                            fake_data):
  """The validation curves (eval.every, as the study's note's four log
  them) change nothing a run trains: the same loss lines and the same
  final state, bit for bit, as the run without them; so one study run is
  reproduced by its config, seed, steps and settings alone."""
  runs = {}
  for every in (0, 2):
    config = tiny_config()
    config.eval.every = every
    for ev in ("distance", "disjoint_characters", "fewshot"):  # the study's
      config.eval.during_training[ev] = config.evals[ev].to_dict()
    state = train.train(config, str(tmp_path / str(every)))
    log = [json.loads(l) for l in open(tmp_path / str(every) /
                                       "train_log.jsonl")]
    runs[every] = state, [{k: v for k, v in r.items() if k not in (
        "wall_s", "steps_per_s")} for r in log if "loss" in r]
  assert os.path.exists(tmp_path / "2" / "eval_log.jsonl")
  assert runs[0][1] == runs[2][1] and runs[0][1]
  for a, b in zip(leaves(runs[0][0]), leaves(runs[2][0])):
    np.testing.assert_array_equal(a, b)


def test_images_live_on_the_devices_when_they_fit():
  cpu = jax.local_devices()[0]
  assert train.images_on_device("auto", 15 << 20, cpu)  # Omniglot, 28 px
  assert not train.images_on_device(
      "auto", train.DEVICE_IMAGES_MAX_BYTES + 1, cpu)

  class SmallAccelerator:
    def memory_stats(self):
      return {"bytes_limit": 40 << 20}

  assert not train.images_on_device("auto", 15 << 20, SmallAccelerator())
  assert train.images_on_device("auto", 5 << 20, SmallAccelerator())
  assert train.images_on_device("always", 1 << 40, cpu)
  assert not train.images_on_device("never", 1, cpu)
  with pytest.raises(validation.ConfigError, match="data.on_device='gpu'"):
    train.images_on_device("gpu", 1, cpu)


@pytest.mark.multi_device
def test_metrics_of_many_steps_come_back_in_one_transfer(monkeypatch):
  """fetch_metrics: the pending steps' replicated metrics are stacked on the
  device and read in one jax.device_get; their means are the log line's."""
  devices = jax.local_devices()[:2]
  fn = jax.pmap(lambda x: {"loss": x.sum(), "grad_norm": x.mean()},
                axis_name=train.AXIS, devices=devices)
  xs = np.random.default_rng(0).random((5, 2, 3), np.float32)
  pending = [fn(x) for x in xs]
  real, calls = jax.device_get, []
  monkeypatch.setattr(jax, "device_get",
                      lambda tree: calls.append(1) or real(tree))
  got = train.fetch_metrics(pending)
  assert len(calls) == 1
  want = [train.unreplicate(p) for p in pending]
  monkeypatch.undo()
  for k in ("loss", "grad_norm"):
    np.testing.assert_array_equal(got[k], [w[k] for w in want])
  calls.clear()
  monkeypatch.setattr(jax, "device_get",
                      lambda tree: calls.append(1) or real(tree))
  means = train.mean_metrics(pending)
  assert len(calls) == 1
  assert means["loss"] == float(np.mean([w["loss"] for w in want]))


def test_a_log_line_holds_the_means_of_its_steps_metrics(tmp_path, fake_data,
                                                         monkeypatch):
  """Every logged metric is the mean of that metric over the steps since the
  previous log line (log every 3 steps, saves at 2 and 4 between them)."""
  config = tiny_config()
  config.train.log_every = 3
  real, per_step = train.make_p_train_step, []

  def recording(method, devices=None, precision="highest"):
    step = real(method, devices, precision)

    def run(*args):
      state, metrics = step(*args)
      per_step.append(train.unreplicate(metrics))
      return state, metrics

    return run

  monkeypatch.setattr(train, "make_p_train_step", recording)
  train.train(config, str(tmp_path))
  log = [json.loads(l) for l in open(tmp_path / "train_log.jsonl")]
  assert [r["step"] for r in log] == [3, 6] and len(per_step) == 6
  for row, steps in zip(log, (per_step[:3], per_step[3:])):
    assert set(steps[0]) <= set(row)
    for k in steps[0]:
      assert row[k] == float(np.mean([s[k] for s in steps])), k
  assert log[0]["loss"] != log[1]["loss"]


@pytest.mark.parametrize("field,value,match", [
    ("loss.name", "no_such_loss", "loss.name"),
    ("loss.pooling", "max", "loss.pooling"),
    ("loss.similarity", "dot", "loss.similarity"),
    ("data.items_per_group", 0, "data.items_per_group"),
    ("loss.temperature", -1.0, "loss.temperature"),
    ("data.image_size", 0, "data.image_size"),
    ("data.label_key", "stroke", "data.label_key"),
    ("data.group_key", "colour", "data.group_key"),
    ("data.heldout_fraction", 1.5, "data.heldout_fraction"),
    ("data.groups_per_class", 1, "data.groups_per_class"),
    ("model.name", "resnet", "model.name"),
    ("train.schedule", "linear", "train.schedule"),
    ("train.num_steps", 0, "train.num_steps"),
    ("train.learning_rate", 0.0, "train.learning_rate"),
    ("eval.max_characters", 5, "eval.max_characters"),
    ("evals.theorem1.sampled_items", -1, "evals.theorem1.sampled_items"),
    ("evals.fewshot.episodes", 0, "evals.fewshot.episodes"),
])
def test_bad_config_values_are_named(field, value, match, tmp_path, fake_data):
  config = tiny_config()
  section, _, key = field.rpartition(".")
  config[section][key] = value
  with pytest.raises(validation.ConfigError, match=match):
    train.train(config, str(tmp_path))
  assert not os.path.exists(tmp_path / "checkpoints")


@pytest.mark.multi_device
def test_impossible_batch_shapes_fail_before_training(tmp_path, fake_data):
  config = tiny_config()
  config.data.items_per_group = 1000  # fake groups hold 120 items
  with pytest.raises(sampler_lib.BatchShapeError, match="items_per_group"):
    train.train(config, str(tmp_path))
  config = tiny_config()
  # 3 x 3 x 1 = 9 images on 2 devices.
  config.data.classes_per_batch = config.data.groups_per_class = 3
  config.data.items_per_group = 1
  with pytest.raises(validation.ConfigError, match="divisible"):
    train.train(config, str(tmp_path))
  assert not os.path.exists(tmp_path / "checkpoints")


def test_unwritable_workdir_is_a_clear_error(tmp_path, fake_data):
  blocker = tmp_path / "file"
  blocker.write_text("not a directory")
  with pytest.raises(checkpoints.CheckpointError, match="Cannot write"):
    train.train(tiny_config(), str(blocker / "wd"))


def test_missing_data_fails_before_training(tmp_path):
  config = tiny_config()
  config.data.data_dir = str(tmp_path / "empty")
  config.data.cache_dir = str(tmp_path / "cache")
  config.data.download = False
  with pytest.raises(omniglot.DataError, match="not prepared"):
    train.train(config, str(tmp_path / "wd"))


def test_foreign_checkpoint_is_refused(tmp_path, fake_data):
  train.train(tiny_config("gi_centroid"), str(tmp_path))
  other = tiny_config("gg_centroid")
  with pytest.raises(checkpoints.CheckpointError,
                     match="another configuration") as refused:
    train.train(other, str(tmp_path))
  assert str(refused.value).endswith("Use a fresh --workdir, or the config "
                                     "that wrote it.")  # the user's way out
  assert "--workdir" not in refused.value.finding


def test_a_cosine_run_resumed_at_another_length_is_refused(tmp_path,
                                                          fake_data):
  """The cosine schedule decays to 0 over train.num_steps: a finished run
  resumed to another length would be two schedules spliced, not the run
  its config describes (a constant or step schedule may grow:
  test_a_checkpoint_under_another_learning_rate_is_refused)."""
  config = tiny_config()
  config.train.schedule, config.train.num_steps = "cosine", 2
  train.train(config, str(tmp_path))
  for steps in (4, 1):
    config.train.num_steps = steps
    with pytest.raises(checkpoints.CheckpointError,
                       match=r"config.train.num_steps=2 there, "
                       rf"{steps} here. A cosine schedule decays to 0 over "
                       "train.num_steps"):
      train.train(config, str(tmp_path))
  config.train.num_steps = 2
  checkpoints.check_written_by(str(tmp_path), config.to_dict())


def test_only_a_cosine_length_is_explained_as_the_schedules():
  """A record's whole train section is compared (grouprep.sweep): another
  length under a constant schedule is named, without the cosine reason."""
  from grouprep import sweep  # pylint: disable=g-import-not-at-top
  for schedule, explained in (("constant", False), ("cosine", True)):
    saved, current = tiny_config(), tiny_config()
    saved.train.schedule = current.train.schedule = schedule
    saved.train.num_steps, current.train.num_steps = 2, 4
    why = sweep.record_differs(saved.to_dict(), current.to_dict())
    assert "config.train.num_steps=2 there, 4 here." in why
    assert ("A cosine schedule decays" in why) == explained


def test_a_checkpoint_under_another_learning_rate_is_refused(tmp_path,
                                                            fake_data):
  """The schedule is part of a run's identity: resuming under another
  learning rate would not be the run either config describes."""
  config = tiny_config()
  config.train.num_steps = 2
  train.train(config, str(tmp_path))
  config.train.num_steps = 4  # a longer run of the same config resumes
  config.train.learning_rate *= 3
  with pytest.raises(checkpoints.CheckpointError,
                     match=r"config.train.learning_rate=0.001 there"):
    train.train(config, str(tmp_path))
  with pytest.raises(checkpoints.CheckpointError, match="learning_rate"):
    checkpoints.check_written_by(str(tmp_path), config.to_dict())
  config.train.learning_rate /= 3
  checkpoints.check_written_by(str(tmp_path), config.to_dict())
  checkpoints.check_written_by(str(tmp_path / "none"), config.to_dict())
  # A field its schedule does not read may change (step decay under a
  # constant schedule); the schedule itself may not.
  config.train.decay_every += 1
  checkpoints.check_written_by(str(tmp_path), config.to_dict())
  config.train.schedule = "step"
  with pytest.raises(checkpoints.CheckpointError, match="train.schedule"):
    checkpoints.check_written_by(str(tmp_path), config.to_dict())


def test_a_checkpoint_of_other_shapes_is_named():
  restored = {"params": {"Conv_0": {"kernel": np.zeros((3, 3, 1, 8))}}}
  expected = {"params": {"Conv_0": {"kernel": np.zeros((3, 3, 1, 64))}}}
  with pytest.raises(checkpoints.CheckpointError,
                     match=r"Conv_0.*\(3, 3, 1, 8\) there, \(3, 3, 1, 64\) here"):
    checkpoints.check_shapes(restored, expected, "somewhere", 7)
  checkpoints.check_shapes(expected, expected, "somewhere", 7)
