"""loss.candidates="prototypes": the masked loss against naive loops, the
streaming path against the dense one, the EMA table against a Python loop
over the same batches, 1 vs 2 devices, and checkpoints that refuse a change
of candidates. (Kill -9 and resume: tests/test_reliability.py.)"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import tiny_config
from grouprep import checkpoints
from grouprep import losses
from grouprep import models
from grouprep import train
from grouprep.data import sampler as sampler_lib
from grouprep.methods import group_contrastive
from grouprep.methods.interface import Batch
from grouprep.methods.interface import TrainingGroups

KINDS = ("cosine", "neg_sq_euclidean")


def naive_sim(a, b, kind, t):
  if kind == "cosine":
    return a @ b / np.linalg.norm(a) / np.linalg.norm(b) / t
  return -np.sum((a - b) ** 2) / t


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("streaming", [False, True])
def test_masked_infonce_skips_masked_candidates(kind, streaming):
  """Candidates of the anchor's own class (other than its positive) and
  positive-only candidates (class -1) of other anchors are skipped."""
  rng = np.random.default_rng(0)
  a = rng.normal(size=(9, 4)).astype(np.float32)
  b = rng.normal(size=(6, 4)).astype(np.float32)
  anchor_class = rng.integers(0, 3, 9)
  cand_class = np.array([0, 1, 2, 0, -1, -1])
  pos = np.array([np.flatnonzero((cand_class == c) | (cand_class == -1))[
      rng.integers(0, 3)] for c in anchor_class])
  kept = np.array([[k == pos[n] or (cand_class[k] >= 0 and
                                    cand_class[k] != anchor_class[n])
                    for k in range(6)] for n in range(9)])
  assert (~kept).any() and kept.sum(1).min() >= 2  # the mask does something
  want = []
  for n in range(9):
    logits = [naive_sim(a[n], b[k], kind, 0.5) for k in range(6) if kept[n, k]]
    want.append(np.log(np.sum(np.exp(logits)))
                - naive_sim(a[n], b[pos[n]], kind, 0.5))
  np.testing.assert_array_equal(
      losses.kept_candidates(jnp.asarray(pos), jnp.asarray(anchor_class),
                             jnp.asarray(cand_class)), kept)
  got = losses.candidates_infonce(a, b, jnp.asarray(pos),
                                  jnp.asarray(anchor_class),
                                  jnp.asarray(cand_class), temperature=0.5,
                                  similarity=kind, streaming=streaming,
                                  chunk_size=4)
  np.testing.assert_allclose(float(got), np.mean(want), rtol=1e-5)
  # The streamed gradient, summed over chunks of 4 (the last one padded),
  # is the dense one's under the same mask.
  grad = lambda streamed: jax.grad(
      lambda a, b: losses.candidates_infonce(
          a, b, jnp.asarray(pos), jnp.asarray(anchor_class),
          jnp.asarray(cand_class), temperature=0.5, similarity=kind,
          streaming=streamed, chunk_size=4), argnums=(0, 1))(a, b)
  if streaming:
    for got_g, want_g in zip(grad(True), grad(False)):
      np.testing.assert_allclose(got_g, want_g, rtol=1e-5, atol=1e-6)


def _prototype_case(seed=0, c=3, m=2, k=7, d=5):
  rng = np.random.default_rng(seed)
  anchors = rng.normal(size=(c, m, d)).astype(np.float32)
  table = rng.normal(size=(k, d)).astype(np.float32)
  group_class = np.array([0, 0, 1, 1, 2, 2, 3])
  anchor_class = np.array([2, 0, 1])
  positive_ids = np.array([5, 1, 2])
  return anchors, anchor_class, positive_ids, table, group_class


@pytest.mark.parametrize("kind", KINDS)
def test_prototype_loss_equals_a_loop_that_skips_same_class_candidates(kind):
  anchors, anchor_class, positive_ids, table, group_class = _prototype_case()
  want = []
  for c in range(3):
    for x in anchors[c]:
      others = [naive_sim(x, table[j], kind, 0.1) for j in range(7)
                if group_class[j] != anchor_class[c]]
      pos = naive_sim(x, table[positive_ids[c]], kind, 0.1)
      want.append(np.log(np.exp(pos) + np.sum(np.exp(others))) - pos)
  for streaming_above in (0, 10_000):
    got = group_contrastive.prototype_contrast_terms(
        anchors, anchor_class, positive_ids, table, group_class,
        temperature=0.1, similarity=kind, streaming_above=streaming_above)
    np.testing.assert_allclose(float(got), np.mean(want), rtol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_streaming_path_equals_dense_in_value_and_gradient(kind):
  """streaming_above=0 forces the streaming loss on a small case."""
  anchors, anchor_class, positive_ids, table, group_class = _prototype_case(1)

  def loss(anchors, table, streaming_above):
    return group_contrastive.prototype_contrast_terms(
        anchors, anchor_class, positive_ids, table, group_class,
        temperature=0.2, similarity=kind, streaming_above=streaming_above)

  dense = jax.value_and_grad(loss, argnums=(0, 1))(anchors, table, 10_000)
  stream = jax.value_and_grad(loss, argnums=(0, 1))(anchors, table, 0)
  np.testing.assert_allclose(stream[0], dense[0], rtol=1e-6)
  # Two summation orders in float32: on a GPU they differ by ~1.5e-6 in
  # gradients of magnitude ~4 (neg_sq_euclidean).
  for g_stream, g_dense in zip(stream[1], dense[1]):
    np.testing.assert_allclose(g_stream, g_dense, rtol=1e-5, atol=5e-6)
  # Only the positives' rows of the table receive a gradient: the negatives
  # are constant.
  touched = np.flatnonzero(np.abs(np.asarray(dense[1][1])).sum(1) > 0)
  assert sorted(touched) == sorted(positive_ids)


def _setup(name="gi_centroid_prototypes"):
  config = tiny_config(name)
  _, data, sampler = train.training_data(config)
  model = models.create_model(config.model, axis_name=train.AXIS)
  state = train.create_train_state(
      config, model, (16, 16, 1),
      training=train.training_groups(config, data, sampler.groups))
  return config, data, sampler, model, state


def test_initial_table_is_the_untrained_encoders_pooled_groups(fake_data):
  config, data, sampler, model, state = _setup()
  groups = sampler.groups
  table = np.asarray(state.extra["prototypes"])
  assert table.shape == (groups.num_groups, 8)  # tiny Conv-4: width 8
  eval_model = models.create_model(config.model)
  variables = train.encoder_variables(state)
  for g in range(groups.num_groups):
    x = sampler_lib.gather_images(data.images, groups, groups.members(g))
    z = np.asarray(eval_model.apply(variables, x, train=False)).mean(0)
    np.testing.assert_allclose(table[g], z / np.linalg.norm(z), rtol=1e-4,
                               atol=1e-5)
  np.testing.assert_array_equal(state.extra["group_class"], groups.group_class)


@pytest.mark.slow
def test_table_after_k_steps_equals_a_python_loop(fake_data):
  """Each step's table: beta * P + (1 - beta) * unit(centroid of the batch
  group) for each batch group, by hand, from the embeddings of that step's
  parameters; every other row unchanged."""
  config, data, sampler, model, state = _setup()
  beta = config.loss.prototype_momentum
  step_fn = train.make_p_train_step(
      group_contrastive.make_group_item(config.loss), jax.local_devices()[:1])
  item_class = sampler.groups.group_class[sampler.groups.item_group]
  s = train.replicate(state, jax.local_devices()[:1])
  table = np.asarray(state.extra["prototypes"], np.float64)
  plain = models.create_model(config.model)  # no device axis: 1 device
  for step in range(3):
    host = train.unreplicate(s)
    idx = sampler.indices(step)
    images = sampler_lib.gather_images(data.images, sampler.groups, idx)
    ids = sampler.groups.item_group[idx[:, :, 0]]
    c, v, m = idx.shape
    z, _ = plain.apply(train.encoder_variables(host),
                       images.reshape((c * v * m,) + images.shape[3:]),
                       train=True, mutable=["batch_stats"])
    # The same computation outside pmap: BatchNorm over the batch.
    z = np.asarray(z, np.float64).reshape(c, v, m, -1)
    for ci in range(c):
      for vi in range(v):
        pooled = z[ci, vi].mean(0)
        pooled /= np.linalg.norm(pooled)
        row = beta * table[ids[ci, vi]] + (1 - beta) * pooled
        table[ids[ci, vi]] = row / np.linalg.norm(row)
    s, _ = step_fn(s, images[None], item_class[idx[:, 0, 0]][None], ids[None])
    got = np.asarray(train.unreplicate(s).extra["prototypes"])
    np.testing.assert_allclose(got, table, rtol=1e-4, atol=1e-5)
  assert not np.allclose(table, np.asarray(state.extra["prototypes"]))


@pytest.mark.slow
@pytest.mark.multi_device
def test_two_devices_equal_one_and_replicas_hold_identical_tables():
  from test_train import run_steps_on  # pylint: disable=g-import-not-at-top
  config = tiny_config("gi_centroid_prototypes")
  config.train.optimizer = "sgd"  # updates proportional to the gradients
  model = models.create_model(config.model, axis_name=train.AXIS)
  rng = np.random.default_rng(3)
  group_class = np.repeat(np.arange(6), 2)  # 6 classes x 2 groups

  def pooled(encoder, pool_params):
    return rng.normal(size=(12, 8)).astype(np.float32)  # D = width 8

  state = train.create_train_state(
      config, model, (16, 16, 1),
      training=TrainingGroups(6, group_class, pooled))
  batch = rng.random((4, 2, 4, 16, 16, 1), np.float32)
  labels = np.array([3, 0, 5, 1])
  group_ids = np.stack([2 * labels, 2 * labels + 1], axis=1)
  out = {}
  for n in (1, 2):
    metrics, s = run_steps_on(n, config, state, batch, labels, steps=2,
                              group_ids=group_ids)
    if n == 2:
      table = np.asarray(s.extra["prototypes"])
      np.testing.assert_array_equal(table[0], table[1])  # bit-identical
    out[n] = (float(metrics["loss"][0]), train.unreplicate(s),
              float(metrics["grad_norm"][0]))
  np.testing.assert_allclose(out[1][0], out[2][0], rtol=1e-5)
  np.testing.assert_allclose(out[1][2], out[2][2], rtol=1e-5)
  np.testing.assert_allclose(out[1][1].extra["prototypes"],
                             out[2][1].extra["prototypes"], rtol=1e-5,
                             atol=1e-6)
  for a, b in zip(jax.tree.leaves(out[1][1].params),
                  jax.tree.leaves(out[2][1].params)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
  moved = np.flatnonzero(np.any(
      np.asarray(out[1][1].extra["prototypes"]) !=
      np.asarray(state.extra["prototypes"]), axis=1))
  assert sorted(moved) == sorted(group_ids.reshape(-1))  # only batch groups


@pytest.mark.slow
def test_a_batch_checkpoint_is_refused_under_prototypes(tmp_path, fake_data):
  config = tiny_config("gi_centroid")
  config.train.num_steps = 2
  train.train(config, str(tmp_path))
  config.loss.candidates = "prototypes"
  with pytest.raises(checkpoints.CheckpointError,
                     match=r"config\.loss\.candidates='batch' there, "
                           r"'prototypes' here"):
    train.train(config, str(tmp_path))


def test_a_checkpoint_older_than_candidates_counts_as_batch():
  saved = {"loss": {"name": "group_item", "pooling": "centroid"}}
  here = {"loss": {"name": "group_item", "pooling": "centroid",
                   "candidates": "batch", "prototype_momentum": 0.9}}
  checkpoints._check_identity(saved, here, 5, "w", ("loss",))
  here["loss"]["candidates"] = "prototypes"
  with pytest.raises(checkpoints.CheckpointError, match="loss.candidates"):
    checkpoints._check_identity(saved, here, 5, "w", ("loss",))
  # Before loss.augment, every checkpoint trained on the images themselves.
  here["loss"]["candidates"] = "batch"
  here["loss"]["augment"] = False
  checkpoints._check_identity(saved, here, 5, "w", ("loss",))
  here["loss"]["augment"] = True
  with pytest.raises(checkpoints.CheckpointError,
                     match=r"config\.loss\.augment=False there, True here"):
    checkpoints._check_identity(saved, here, 5, "w", ("loss",))
  # A checkpoint whose config lacks a whole identity section is foreign.
  with pytest.raises(checkpoints.CheckpointError, match="config.seed=None"):
    checkpoints._check_identity({}, {"seed": 0}, 5, "w", ("seed",))


@pytest.mark.slow
@pytest.mark.parametrize("group_key", ["charset", "rotation"])
def test_any_group_protocol_trains_with_prototypes(group_key, tmp_path,
                                                   fake_data):
  """One prototype per training group of whatever protocol: disjoint
  character sets (upright) or rotations."""
  config = tiny_config("gg_centroid_prototypes")
  config.data.group_key = group_key
  _, data, sampler = train.training_data(config)
  state = train.train(config, str(tmp_path))
  table = np.asarray(state.extra["prototypes"])
  assert table.shape[0] == sampler.groups.num_groups
  np.testing.assert_array_equal(state.extra["group_class"],
                                sampler.groups.group_class)
  np.testing.assert_allclose(np.linalg.norm(table, axis=1), 1, rtol=1e-5)


def naive_medoid(x):
  costs = [sum(np.linalg.norm(x[i] - x[j]) for j in range(len(x)))
           for i in range(len(x))]
  return x[int(np.argmin(costs))]


@pytest.mark.parametrize("kind", ["group_item", "group_group"])
@pytest.mark.parametrize("pool", ["centroid", "medoid"])
def test_the_methods_loss_and_table_equal_a_numpy_loop(kind, pool):
  """The whole method on a hand-made batch (one device): the EMA of each
  batch group's unit pooled embedding, then every view pair's anchors
  against the updated view-b prototype and the other classes' prototypes."""
  config = tiny_config("gi_centroid_prototypes")
  config.loss.name, config.loss.pooling = kind, pool
  cfg = config.loss
  method = (group_contrastive.make_group_item if kind == "group_item" else
            group_contrastive.make_group_group)(cfg)
  rng = np.random.default_rng(7)
  c, v, m, d, k = 3, 2, 3, 4, 10
  z = rng.normal(size=(1, c, v, m, d)).astype(np.float32)
  group_class = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
  labels = np.array([4, 1, 2])
  ids = np.stack([2 * labels + 1, 2 * labels], axis=1)  # [C, V]
  table = rng.normal(size=(k, d)).astype(np.float32)
  table /= np.linalg.norm(table, axis=1, keepdims=True)
  state = {"prototypes": jnp.asarray(table),
           "group_class": jnp.asarray(group_class)}

  def run(z):
    batch = Batch(z=z, z_local=z, labels=jnp.asarray(labels),
                  group_ids=jnp.asarray(ids), aux={}, encode=None,
                  step=jnp.zeros((), jnp.int32), axis_name="batch")
    value, (new_state, _) = method.loss({}, state, batch)
    return value, new_state["prototypes"]

  value, new_table = jax.pmap(run, axis_name="batch",
                              devices=jax.local_devices()[:1])(z[None])
  # NumPy.
  zz = z[0].astype(np.float64)
  pooled = np.array([[zz[i, j].mean(0) if pool == "centroid" else
                      naive_medoid(zz[i, j]) for j in range(v)]
                     for i in range(c)])  # [C, V, D]
  unit = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)
  upd = table.astype(np.float64).copy()
  beta = cfg.prototype_momentum
  for i in range(c):
    for j in range(v):
      upd[ids[i, j]] = beta * upd[ids[i, j]] + (1 - beta) * unit(pooled[i, j])
  sim = lambda a, b: unit(a) @ unit(b) / cfg.temperature
  terms = []
  for a, b in ((0, 1), (1, 0)):
    per_anchor = []
    for i in range(c):
      anchors = zz[i, a] if kind == "group_item" else pooled[i, a][None]
      for x in anchors:
        pos = sim(x, upd[ids[i, b]])
        neg = [sim(x, upd[g]) for g in range(k)
               if group_class[g] != labels[i]]
        per_anchor.append(np.log(np.exp(pos) + np.sum(np.exp(neg))) - pos)
    terms.append(np.mean(per_anchor))
  np.testing.assert_allclose(float(value[0]), np.mean(terms), rtol=1e-5)
  want = table.astype(np.float64).copy()
  moved = ids.reshape(-1)
  want[moved] = unit(upd[moved])
  np.testing.assert_allclose(np.asarray(new_table[0]), want, rtol=1e-5,
                             atol=1e-6)
