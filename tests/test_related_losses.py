"""The related systems' losses (SMoG, triplet, ArcFace/GroupFace, the Group
Loss) against naive loop implementations."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from grouprep import losses


def softmax(v):
  e = np.exp(np.asarray(v, np.float64) - np.max(v))
  return e / e.sum()


def cos(a, b):
  return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.parametrize("kind", ["cosine", "neg_sq_euclidean"])
def test_prototype_infonce_matches_loop(kind):
  rng = np.random.default_rng(0)
  items, protos = rng.normal(size=(7, 5)), rng.normal(size=(4, 5))
  targets = rng.integers(0, 4, 7)
  sim = (lambda a, b: cos(a, b)) if kind == "cosine" else (
      lambda a, b: -float(np.sum((a - b) ** 2)))
  want = np.mean([-math.log(softmax([sim(x, p) / 0.1 for p in protos])[t])
                  for x, t in zip(items, targets)])
  got = losses.prototype_infonce(items, protos, jnp.asarray(targets),
                                 temperature=0.1, similarity=kind)
  assert float(got) == pytest.approx(want, rel=1e-4)


def naive_triplet(emb, labels, margin):
  out = []
  for a in range(len(emb)):
    d = [np.linalg.norm(emb[a] - emb[j]) for j in range(len(emb))]
    pos = [d[j] for j in range(len(emb)) if labels[j] == labels[a] and j != a]
    neg = [d[j] for j in range(len(emb)) if labels[j] != labels[a]]
    if pos and neg:
      out.append(max(0.0, max(pos) - min(neg) + margin))
  return np.mean(out)


@pytest.mark.parametrize("margin", [0.0, 0.5, 5.0])
def test_triplet_batch_hard_matches_loop(margin):
  rng = np.random.default_rng(1)
  emb = rng.normal(size=(10, 3))
  labels = np.array([0, 0, 1, 1, 1, 2, 2, 3, 0, 2])  # class 3: a lone anchor
  got = losses.triplet_batch_hard(emb, jnp.asarray(labels), margin=margin)
  assert float(got) == pytest.approx(naive_triplet(emb, labels, margin),
                                     rel=1e-4)
  g = jax.grad(lambda e: losses.triplet_batch_hard(e, jnp.asarray(labels),
                                                   margin=margin))(emb)
  assert np.all(np.isfinite(g))


def test_arcface_matches_loop():
  rng = np.random.default_rng(2)
  emb, w = rng.normal(size=(6, 4)), rng.normal(size=(5, 4))
  labels = rng.integers(0, 5, 6)
  s, m = 16.0, 0.3
  want = []
  for x, y in zip(emb, labels):
    logits = []
    for k in range(5):
      theta = math.acos(cos(x, w[k]))
      logits.append(s * (math.cos(theta + m) if k == y else math.cos(theta)))
    want.append(-math.log(softmax(logits)[y]))
  got = losses.arcface_loss(emb, w, jnp.asarray(labels), scale=s, margin=m)
  assert float(got) == pytest.approx(np.mean(want), rel=1e-4)


def test_self_distributed_labels_match_rule_and_balance_a_skewed_batch():
  rng = np.random.default_rng(3)
  k = 4
  # Skewed: every item prefers group 0 by a wide margin.
  logits = rng.normal(size=(200, k)) * 0.5
  logits[:, 0] += 3.0
  probs = np.asarray(jax.nn.softmax(logits))
  naive = [int(np.argmax([(probs[i, j] - probs[:, j].mean()) / k + 1 / k
                          for j in range(k)])) for i in range(len(probs))]
  got = np.asarray(losses.self_distributed_labels(jnp.asarray(probs)))
  np.testing.assert_array_equal(got, naive)
  plain = np.bincount(probs.argmax(1), minlength=k)
  balanced = np.bincount(got, minlength=k)
  assert plain[0] == 200  # argmax alone puts everything in one group
  assert balanced.max() < 0.6 * 200 and np.all(balanced > 0.1 * 200)


def test_pearson_affinity_matches_loop():
  x = np.random.default_rng(4).normal(size=(5, 6))
  want = np.array([[0.0 if i == j else max(0.0, np.corrcoef(x[i], x[j])[0, 1])
                    for j in range(5)] for i in range(5)])
  np.testing.assert_allclose(np.asarray(losses.pearson_affinity(x)), want,
                             atol=1e-5)


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


@pytest.mark.parametrize("iterations", [1, 3])
def test_replicator_dynamics_matches_loop(iterations):
  rng = np.random.default_rng(5)
  w = np.abs(rng.normal(size=(6, 6)))
  np.fill_diagonal(w, 0)
  x = rng.dirichlet(np.ones(3), size=6)
  got = losses.replicator_dynamics(jnp.asarray(w, jnp.float32),
                                   jnp.asarray(x, jnp.float32), iterations)
  np.testing.assert_allclose(np.asarray(got), naive_replicator(w, x, iterations),
                             rtol=1e-4, atol=1e-6)


def test_group_loss_matches_loop():
  rng = np.random.default_rng(6)
  emb, logits = rng.normal(size=(8, 5)), rng.normal(size=(8, 3))
  labels = np.array([0, 0, 1, 1, 2, 2, 0, 1])
  anchors = np.array([1, 0, 1, 0, 1, 0, 0, 0], bool)
  t = 2.0
  priors = np.array([np.eye(3)[y] if a else softmax(l / t)
                     for l, y, a in zip(logits, labels, anchors)])
  w = np.array([[0.0 if i == j else max(0.0, np.corrcoef(emb[i], emb[j])[0, 1])
                 for j in range(8)] for i in range(8)])
  x = naive_replicator(w, priors, 2)
  nll = -np.mean([math.log(x[i, y]) for i, y in enumerate(labels)])
  ce = -np.mean([math.log(softmax(l)[y]) for l, y in zip(logits, labels)])
  got = losses.group_loss(emb, logits, jnp.asarray(labels), jnp.asarray(anchors),
                          temperature=t, iterations=2)
  assert float(got) == pytest.approx(nll + ce, rel=1e-4)
