"""SMoG: Synchronous Momentum Grouping (Pang et al., ECCV 2022). Unsupervised.

Per step, two augmentations of each image. The momentum encoder's embedding
of each view assigns the view to its most similar of K prototypes (argmax).
The prototypes move by momentum towards the mean online embedding of their
items, g_k <- beta g_k + (1 - beta) mean f(x_t), in the same step and
synchronously over the devices (prototypes.ema_update with the pmapped axis),
so gradients flow through the updated prototypes into the group-item loss:
each view's online embedding must pick out the group of the other view.
At step loss.regroup_first and every loss.regroup_every steps the prototypes
are re-grouped by k-means (started from K distinct remembered embeddings) over
a memory of the last loss.memory_size momentum embeddings (against collapse).
Labels are not used.
"""
import jax
import jax.numpy as jnp

from grouprep import losses
from grouprep import prototypes as protos
from grouprep.methods import Method


def _normalize(x):
  return x * jax.lax.rsqrt(jnp.maximum(jnp.sum(x * x, -1, keepdims=True), 1e-12))


def make(cfg) -> Method:
  k, q = cfg.num_prototypes, cfg.memory_size

  def init(rng, dim, num_classes):
    del num_classes
    return {}, {"prototypes": _normalize(jax.random.normal(rng, (k, dim))),
                "memory": jnp.zeros((q, dim)),
                "memory_written": jnp.zeros((), jnp.int32)}

  def loss(head, extra, batch):
    del head
    d = batch.z.shape[-1]
    flat = lambda x: _normalize(x.reshape(2, -1, d))  # [2, N, D]
    z, z_loc = flat(batch.z), flat(batch.z_local)
    zm, zm_loc = flat(batch.z_momentum), flat(batch.z_momentum_local)
    g = extra["prototypes"]
    assign = jax.vmap(protos.assign, in_axes=(0, None))
    a, a_loc = assign(zm, g), assign(zm_loc, g)  # [2, N], [2, N / n]
    # Synchronous momentum grouping: sums and counts over every device.
    g_new = protos.ema_update(g, z_loc.reshape(-1, d), a_loc.reshape(-1),
                              cfg.prototype_momentum, axis_name=batch.axis_name)
    kw = dict(temperature=cfg.temperature, similarity="cosine")
    value = 0.5 * (losses.prototype_infonce(z[0], g_new, a[1], **kw) +
                   losses.prototype_infonce(z[1], g_new, a[0], **kw))

    # Untrained state: prototypes, memory, periodic k-means re-grouping.
    g_next = _normalize(jax.lax.stop_gradient(g_new))
    n = zm.shape[1]
    slots = (extra["memory_written"] + jnp.arange(n)) % q  # a ring buffer
    memory = extra["memory"].at[slots].set(zm[0])
    valid = jnp.arange(q) < extra["memory_written"] + n
    done = batch.step + 1
    regroup = ((done % cfg.regroup_every == 0) | (done == cfg.regroup_first)
               ) & (jnp.sum(valid) >= k)

    def regroup_fn():
      # k-means from K distinct remembered embeddings (seeded by the step, the
      # same on every device): every group starts non-empty.
      seeds = jax.random.choice(jax.random.PRNGKey(done), q, (k,),
                                replace=False, p=valid / jnp.sum(valid))
      return protos.kmeans(memory, valid, memory[seeds], cfg.kmeans_iterations)

    g_next = jax.lax.cond(regroup, regroup_fn, lambda: g_next)
    batch_used, entropy = protos.usage(a.reshape(-1), k)
    memory_used, _ = protos.usage(protos.assign(memory, g_next), k,
                                  valid.astype(jnp.float32))
    extra = dict(extra, prototypes=g_next, memory=memory,
                 memory_written=extra["memory_written"] + n)
    return value, (extra, {"loss": value, "groups_used_in_batch": batch_used,
                           "assignment_entropy": entropy,
                           "groups_used_in_memory": memory_used})

  return Method(loss=loss, init=init, views=2, momentum=cfg.encoder_momentum,
                embedding_space="unit")  # cosine to the prototypes
