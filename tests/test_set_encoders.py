"""The Set Transformer blocks against a NumPy loop of multi-head attention;
permutation invariance (PMA) and equivariance (SAB, ISAB); padding with a
mask changes nothing; each with and without jit (chex variants)."""
import itertools
import types

from absl.testing import parameterized
import chex
import jax
import numpy as np
import pytest

from grouprep import set_encoders


def np_tree(tree):
  return jax.tree.map(lambda a: np.asarray(a, np.float64), tree)


def loop_multihead(queries, keys, p, present=None):
  """Multi-head attention one head, query and key at a time (float64)."""
  heads, d, e = p["query"].shape
  present = np.ones(len(keys), bool) if present is None else present
  out = np.zeros((len(queries), heads * e))
  for h in range(heads):
    for n, q in enumerate(queries):
      qh = q @ p["query"][h]
      logits = [float(qh @ (k @ p["key"][h])) / np.sqrt(e)
                for k, keep in zip(keys, present) if keep]
      w = np.exp(np.array(logits) - max(logits))
      w /= w.sum()
      values = [k @ p["value"][h] for k, keep in zip(keys, present) if keep]
      out[n, h * e:(h + 1) * e] = sum(wi * v for wi, v in zip(w, values))
  return out @ p["out"]


def loop_layer_norm(x, p):
  if p is None:
    return x
  mu = x.mean(-1, keepdims=True)
  var = ((x - mu) ** 2).mean(-1, keepdims=True)
  return (x - mu) / np.sqrt(var + 1e-5) * p["scale"] + p["bias"]


def loop_rff(x, p):
  return np.maximum(x @ p["w"] + p["b"], 0)


def loop_mab(x, y, p, present=None):
  h = loop_layer_norm(x + loop_multihead(x, y, p, present), p.get("ln0"))
  return loop_layer_norm(h + loop_rff(h, p["ff"]), p.get("ln1"))


def loop_pooling(items, p):
  """The pooling of one set [M, D], block by block, in float64."""
  x = items
  for block in p["blocks"]:
    if "inducing" in block:
      h = loop_mab(block["inducing"], x, block["to_inducing"])
      x = loop_mab(x, h, block["from_inducing"])
    else:
      x = loop_mab(x, x, block)
  z = loop_rff(x, p["pma"]["ff"])
  return loop_mab(p["pma"]["seeds"], z, p["pma"]["mab"]).mean(0)


def perturbed(p, seed=7):
  """p with every leaf moved off its initial value: init's unit layer-norm
  scales and zero biases would hide code that ignored them."""
  rng = np.random.default_rng(seed)
  return jax.tree.map(
      lambda a: a + 0.3 * rng.normal(size=a.shape).astype(a.dtype), p)


def params(block, layer_norm, dim=6, heads=2, seeds=1, num_blocks=2):
  return perturbed(set_encoders.init_pooling(
      jax.random.PRNGKey(3), dim, block=block, num_blocks=num_blocks,
      heads=heads, inducing_points=3, seeds=seeds, layer_norm=layer_norm))


ARCHITECTURES = [dict(block=b, layer_norm=ln, seeds=k)
                 for b, ln, k in itertools.product(("sab", "isab"),
                                                   (False, True), (1, 2))]


class SetEncodersTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.parameters((1,), (2,), (3,))
  def test_multihead_matches_loop(self, heads):
    rng = np.random.default_rng(0)
    p = perturbed(set_encoders.init_mab(jax.random.PRNGKey(0), 6, heads))
    q, k = rng.normal(size=(4, 6)), rng.normal(size=(5, 6))
    present = np.array([True, False, True, True, False])
    got = self.variant(set_encoders.multihead)(
        q.astype(np.float32), k.astype(np.float32), p, present)
    chex.assert_trees_all_close(
        got, loop_multihead(q, k, np_tree(p), present), rtol=1e-4,
        atol=1e-5)

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.parameters(*ARCHITECTURES)
  def test_pooling_matches_loop(self, **arch):
    x = np.random.default_rng(1).normal(size=(3, 5, 6))
    p = params(**arch)
    got = self.variant(set_encoders.pooling)(x.astype(np.float32), p)
    want = np.stack([loop_pooling(g, np_tree(p)) for g in x])
    chex.assert_trees_all_close(got, want, rtol=1e-4, atol=1e-4)

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.parameters(*ARCHITECTURES)
  def test_permutation_and_padding(self, **arch):
    """Permuting the items permutes the encoder's rows and leaves the pooled
    group as it was; padding the set (mask False) changes neither."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 7, 6)).astype(np.float32)
    p = params(**arch)
    perm = rng.permutation(7)
    encode = self.variant(set_encoders.encode)
    pool = self.variant(set_encoders.pooling)
    chex.assert_trees_all_close(encode(x[:, perm], p["blocks"]),
                                encode(x, p["blocks"])[:, perm], rtol=1e-5,
                                atol=1e-5)
    chex.assert_trees_all_close(pool(x[:, perm], p), pool(x, p), rtol=1e-5,
                                atol=1e-5)
    padded = np.concatenate([x, 50 * rng.normal(size=(2, 4, 6))], 1)
    mask = np.broadcast_to(np.arange(11) < 7, (2, 11))
    chex.assert_trees_all_close(
        encode(padded.astype(np.float32), p["blocks"], mask)[:, :7],
        encode(x, p["blocks"]), rtol=1e-5, atol=1e-5)
    chex.assert_trees_all_close(pool(padded.astype(np.float32), p, mask),
                                pool(x, p), rtol=1e-5, atol=1e-5)

  def test_gradient_is_finite_with_padding(self):
    x = np.random.default_rng(4).normal(size=(2, 5, 6)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    p = params("isab", True)
    g = jax.grad(lambda p, x: set_encoders.pooling(x, p, mask).sum(),
                 argnums=(0, 1))(p, x)
    chex.assert_tree_all_finite(g)
    # No gradient reaches a padded item.
    np.testing.assert_array_equal(np.asarray(g[1])[0, 3:], 0.0)


def test_an_empty_set_leaves_the_others_and_the_gradient_finite():
  """A batch that holds a set with no present item (e.g. a padding row):
  it pools to NaN, the other sets are unchanged and no NaN reaches the
  parameters."""
  x = np.random.default_rng(5).normal(size=(2, 4, 6)).astype(np.float32)
  mask = np.array([[1, 1, 0, 0], [0, 0, 0, 0]], bool)
  p = params("sab", False)
  np.testing.assert_allclose(set_encoders.pooling(x, p, mask)[0],
                             set_encoders.pooling(x[:1, :2], p)[0],
                             rtol=1e-5, atol=1e-6)
  assert np.isnan(np.asarray(set_encoders.pooling(x, p, mask)[1])).all()
  g = jax.grad(lambda p: set_encoders.pooling(x, p, mask)[0].sum())(p)
  chex.assert_tree_all_finite(g)


@pytest.mark.parametrize("settings, match", [
    (dict(heads=4), "heads=4 must divide"),
    (dict(block="mlp"), "block='mlp'"),
    (dict(seeds=0), "seeds=0"),
    (dict(depth=2), "unknown field"),
    (dict(heads=True), "heads=True"),
    (dict(layer_norm=1), "layer_norm=1"),
])
def test_settings_are_checked(settings, match):
  with pytest.raises(ValueError, match=match):
    set_encoders.check_settings(settings, width=6)


def _split_of(raw, item_group, space):
  """A SplitView-like split: groups of items [I, D] by item_group [I], each
  drawing its own image, group g of class g % 2."""
  num_groups = item_group.max() + 1
  groups = types.SimpleNamespace(
      item_group=item_group, item_image=np.arange(len(item_group)),
      group_class=np.arange(num_groups) % 2, num_groups=num_groups,
      members=lambda g: np.flatnonzero(item_group == g))
  data = types.SimpleNamespace(name="toy", groups=groups)
  from grouprep.evaluators import common  # pylint: disable=g-import-not-at-top
  return common.SplitView(data, raw, space)


def test_item_to_group_repools_small_groups_and_skips_large_ones(
    monkeypatch):
  """With the Set Transformer, item -> group leaves each item out by
  re-pooling its group without it (checked against pooling the group with
  the item deleted); above MAX_REPOOLED_MEMBERS it is skipped, saying why."""
  from grouprep import encoder as encoder_lib  # pylint: disable=g-import-not-at-top
  from grouprep import losses  # pylint: disable=g-import-not-at-top
  from grouprep import metrics  # pylint: disable=g-import-not-at-top
  from grouprep.evaluators import item_to_group  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(6)
  item_group = np.repeat(np.arange(6), [3, 4, 5, 3, 4, 5])
  raw = rng.normal(size=(len(item_group), 8)).astype(np.float32)
  p = set_encoders.init_pooling(jax.random.PRNGKey(1), 8, heads=2)
  space = encoder_lib.Space("unit", True, "set_transformer", p)
  split = _split_of(raw, item_group, space)
  got = item_to_group.run_split(None, split, {})

  def deleted(g):  # group g pooled without each member in turn, then unit
    x = raw[item_group == g]
    return np.stack([np.asarray(losses.l2_normalize(set_encoders.pooling(
        np.delete(x, k, 0), p))) for k in range(len(x))])

  want = metrics.item_to_group_accuracy(
      split.items, item_group, np.arange(len(item_group)), split.group_emb,
      split.labels, deleted)
  assert got == {"item_to_group_accuracy": pytest.approx(want)}
  np.testing.assert_allclose(
      split.space.leave_out(split.pool_input[item_group == 2]), deleted(2),
      rtol=1e-4, atol=1e-5)
  monkeypatch.setattr(item_to_group, "MAX_REPOOLED_MEMBERS", 4)
  got = item_to_group.run_split(None, split, {})
  assert list(got) == ["item_to_group_skipped"]
  assert "largest group holds 5" in got["item_to_group_skipped"]
  from grouprep import report  # pylint: disable=g-import-not-at-top
  assert ("| item_to_group_accuracy | skipped: pooling 'set_transformer'"
          in "\n".join(report._split_lines("toy", got)))  # pylint: disable=protected-access


def test_the_config_section_builds_the_pooling():
  """config.loss.set_transformer reaches the pooling's initialiser: ISAB
  blocks with layer norm and 3 seeds give a head holding them."""
  from conftest import tiny_config  # pylint: disable=g-import-not-at-top
  from grouprep import models  # pylint: disable=g-import-not-at-top
  from grouprep import train  # pylint: disable=g-import-not-at-top
  config = tiny_config("gg_set_transformer")
  config.loss.set_transformer.update(block="isab", inducing_points=5,
                                     layer_norm=True, seeds=3, num_blocks=1)
  model = models.create_model(config.model)
  state = train.create_train_state(config, model, (16, 16, 1), num_classes=9)
  pool = state.params["head"]["pool"]
  assert len(pool["blocks"]) == 1
  assert pool["blocks"][0]["inducing"].shape[0] == 5
  assert "ln0" in pool["blocks"][0]["to_inducing"]
  assert pool["pma"]["seeds"].shape[0] == 3
