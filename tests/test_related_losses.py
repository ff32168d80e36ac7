"""The related systems' losses (SMoG, triplet, ArcFace/GroupFace, the Group
Loss) against naive loop implementations, each with and without jit (chex
variants)."""
import functools
import math

from absl.testing import parameterized
import chex
import jax
import jax.numpy as jnp
import numpy as np

from grouprep import losses


def softmax(v):
  e = np.exp(np.asarray(v, np.float64) - np.max(v))
  return e / e.sum()


def cos(a, b):
  return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def naive_triplet(emb, labels, margin):
  out = []
  for a in range(len(emb)):
    d = [np.linalg.norm(emb[a] - emb[j]) for j in range(len(emb))]
    pos = [d[j] for j in range(len(emb)) if labels[j] == labels[a] and j != a]
    neg = [d[j] for j in range(len(emb)) if labels[j] != labels[a]]
    if pos and neg:
      out.append(max(0.0, max(pos) - min(neg) + margin))
  return np.mean(out)


def naive_replicator(w, x, iterations):
  x = np.array(x, np.float64)
  for _ in range(iterations):
    new = np.zeros_like(x)
    for i in range(len(x)):
      for k in range(x.shape[1]):
        new[i, k] = x[i, k] * sum(w[i, j] * x[j, k] for j in range(len(x)))
      new[i] /= new[i].sum()
    x = new
  return x


class RelatedLossesTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.parameters("cosine", "neg_sq_euclidean")
  def test_prototype_infonce_matches_loop(self, kind):
    rng = np.random.default_rng(0)
    items, protos = rng.normal(size=(7, 5)), rng.normal(size=(4, 5))
    targets = rng.integers(0, 4, 7)
    sim = (lambda a, b: cos(a, b)) if kind == "cosine" else (
        lambda a, b: -float(np.sum((a - b) ** 2)))
    want = np.mean([-math.log(softmax([sim(x, p) / 0.1 for p in protos])[t])
                    for x, t in zip(items, targets)])
    loss = self.variant(functools.partial(
        losses.prototype_infonce, temperature=0.1, similarity=kind))
    chex.assert_trees_all_close(loss(items, protos, jnp.asarray(targets)),
                                want, rtol=1e-4)

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.parameters(0.0, 0.5, 5.0)
  def test_triplet_batch_hard_matches_loop(self, margin):
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(10, 3))
    labels = np.array([0, 0, 1, 1, 1, 2, 2, 3, 0, 2])  # class 3: a lone anchor
    loss = functools.partial(losses.triplet_batch_hard,
                             labels=jnp.asarray(labels), margin=margin)
    chex.assert_trees_all_close(self.variant(loss)(emb),
                                naive_triplet(emb, labels, margin), rtol=1e-4)
    chex.assert_tree_all_finite(self.variant(jax.grad(loss))(emb))

  @chex.variants(with_jit=True, without_jit=True)
  def test_arcface_matches_loop(self):
    rng = np.random.default_rng(2)
    emb, w = rng.normal(size=(6, 4)), rng.normal(size=(5, 4))
    labels = rng.integers(0, 5, 6)
    s, m = 16.0, 0.3
    # Two anchors past pi - m from their class (cos(theta + m) would rise
    # again there): the monotone continuation cos - m sin m applies.
    emb[0], emb[1] = -w[labels[0]] + 0.05, -w[labels[1]]
    want = []
    for x, y in zip(emb, labels):
      logits = []
      for k in range(5):
        theta = math.acos(cos(x, w[k]))
        if k != y:
          logits.append(s * math.cos(theta))
        elif theta + m < math.pi:
          logits.append(s * math.cos(theta + m))
        else:
          logits.append(s * (math.cos(theta) - m * math.sin(m)))
      want.append(-math.log(softmax(logits)[y]))
    assert sum(math.acos(cos(x, w[y])) + m >= math.pi
               for x, y in zip(emb, labels)) == 2
    loss = self.variant(functools.partial(losses.arcface_loss, scale=s,
                                          margin=m))
    chex.assert_trees_all_close(loss(emb, w, jnp.asarray(labels)),
                                np.mean(want), rtol=1e-4)

  @chex.variants(with_jit=True, without_jit=True)
  def test_self_distributed_labels_match_rule_and_balance_a_skewed_batch(self):
    rng = np.random.default_rng(3)
    k = 4
    # Skewed: every item prefers group 0 by a wide margin.
    logits = rng.normal(size=(200, k)) * 0.5
    logits[:, 0] += 3.0
    probs = np.asarray(jax.nn.softmax(logits))
    naive = [int(np.argmax([(probs[i, j] - probs[:, j].mean()) / k + 1 / k
                            for j in range(k)])) for i in range(len(probs))]
    got = self.variant(losses.self_distributed_labels)(jnp.asarray(probs))
    chex.assert_trees_all_equal(got, np.array(naive))
    plain = np.bincount(probs.argmax(1), minlength=k)
    balanced = np.bincount(np.asarray(got), minlength=k)
    self.assertEqual(plain[0], 200)  # argmax alone puts everything in one group
    self.assertTrue(balanced.max() < 0.6 * 200 and np.all(balanced > 0.1 * 200))

  @chex.variants(with_jit=True, without_jit=True)
  def test_pearson_affinity_matches_loop(self):
    x = np.random.default_rng(4).normal(size=(5, 6))
    want = np.array([[0.0 if i == j else max(0.0, np.corrcoef(x[i], x[j])[0, 1])
                      for j in range(5)] for i in range(5)])
    chex.assert_trees_all_close(self.variant(losses.pearson_affinity)(x), want,
                                atol=1e-5)

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.parameters(1, 3)
  def test_replicator_dynamics_matches_loop(self, iterations):
    rng = np.random.default_rng(5)
    w = np.abs(rng.normal(size=(6, 6)))
    np.fill_diagonal(w, 0)
    x = rng.dirichlet(np.ones(3), size=6)
    dynamics = self.variant(functools.partial(losses.replicator_dynamics,
                                              iterations=iterations))
    chex.assert_trees_all_close(
        dynamics(jnp.asarray(w, jnp.float32), jnp.asarray(x, jnp.float32)),
        naive_replicator(w, x, iterations), rtol=1e-4, atol=1e-6)

  @chex.variants(with_jit=True, without_jit=True)
  def test_group_loss_matches_loop(self):
    rng = np.random.default_rng(6)
    emb, logits = rng.normal(size=(8, 5)), rng.normal(size=(8, 3))
    labels = np.array([0, 0, 1, 1, 2, 2, 0, 1])
    anchors = np.array([1, 0, 1, 0, 1, 0, 0, 0], bool)
    t = 2.0
    priors = np.array([np.eye(3)[y] if a else softmax(l / t)
                       for l, y, a in zip(logits, labels, anchors)])
    w = np.array([[0.0 if i == j else
                   max(0.0, np.corrcoef(emb[i], emb[j])[0, 1])
                   for j in range(8)] for i in range(8)])
    x = naive_replicator(w, priors, 2)
    nll = -np.mean([math.log(x[i, y]) for i, y in enumerate(labels)])
    ce = -np.mean([math.log(softmax(l)[y]) for l, y in zip(logits, labels)])
    loss = self.variant(functools.partial(losses.group_loss, temperature=t,
                                          iterations=2))
    chex.assert_trees_all_close(
        loss(emb, logits, jnp.asarray(labels), jnp.asarray(anchors)),
        nll + ce, rtol=1e-4)

  @chex.variants(with_jit=True, without_jit=True)
  def test_wrong_shapes_raise_naming_them(self):
    emb, labels = np.ones((10, 3)), np.zeros(10, int)  # N=10, D=3
    triplet = self.variant(losses.triplet_batch_hard)
    with self.assertRaisesRegex(AssertionError,
                                r"shape prefixes: \[\(10,\), \(8,\)\]"):
      triplet(emb, np.zeros(8, int))  # 8 labels for 10 embeddings
    arcface = self.variant(losses.arcface_loss)
    with self.assertRaisesRegex(AssertionError,
                                r"shape suffixes: \[\(3,\), \(4,\)\]"):
      arcface(emb, np.ones((5, 4)), labels)  # class weights of another D
