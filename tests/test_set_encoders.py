"""The Set Transformer blocks against a NumPy loop of multi-head attention;
permutation invariance (PMA) and equivariance (SAB, ISAB); padding with a
mask changes nothing; each with and without jit (chex variants)."""
import itertools

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


def params(block, layer_norm, dim=6, heads=2, seeds=1, num_blocks=2):
  return set_encoders.init_pooling(
      jax.random.PRNGKey(3), dim, block=block, num_blocks=num_blocks,
      heads=heads, inducing_points=3, seeds=seeds, layer_norm=layer_norm)


ARCHITECTURES = [dict(block=b, layer_norm=ln, seeds=k)
                 for b, ln, k in itertools.product(("sab", "isab"),
                                                   (False, True), (1, 2))]


class SetEncodersTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.parameters((1,), (2,), (3,))
  def test_multihead_matches_loop(self, heads):
    rng = np.random.default_rng(0)
    p = set_encoders.init_mab(jax.random.PRNGKey(0), 6, heads)
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
  the other sets are unchanged and no NaN reaches the parameters."""
  x = np.random.default_rng(5).normal(size=(2, 4, 6)).astype(np.float32)
  mask = np.array([[1, 1, 0, 0], [0, 0, 0, 0]], bool)
  p = params("sab", False)
  np.testing.assert_allclose(set_encoders.pooling(x, p, mask)[0],
                             set_encoders.pooling(x[:1, :2], p)[0],
                             rtol=1e-5, atol=1e-6)
  g = jax.grad(lambda p: set_encoders.pooling(x, p, mask)[0].sum())(p)
  chex.assert_tree_all_finite(g)


@pytest.mark.parametrize("settings, match", [
    (dict(heads=4), "heads=4 must divide"),
    (dict(block="mlp"), "block='mlp'"),
    (dict(seeds=0), "seeds=0"),
    (dict(depth=2), "unknown field"),
])
def test_settings_are_checked(settings, match):
  with pytest.raises(ValueError, match=match):
    set_encoders.check_settings(settings, width=6)
