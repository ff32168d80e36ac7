"""SMoG: Synchronous Momentum Grouping (Pang et al., ECCV 2022). Unsupervised.

Per step, two augmentations of each image. The momentum encoder's embedding
of each augmentation assigns it to its most similar of K prototypes (argmax).
The prototypes move by momentum towards the mean online embedding of their
items, g_k <- beta g_k + (1 - beta) mean f(x_t), in the same step and
synchronously over the devices (prototypes.ema_update with the pmapped axis),
so gradients flow through the updated prototypes into the group-item loss:
each augmentation's online embedding must pick out the group of the other.
At step loss.regroup_first and every loss.regroup_every steps the prototypes
are re-grouped by k-means (started from K distinct remembered embeddings) over
a memory of the last loss.memory_size momentum embeddings (against collapse).
The momentum encoder, the prototypes and the memory are this method's state;
labels are not used.
"""
import jax
import jax.numpy as jnp

from grouprep import losses
from grouprep import prototypes as protos
from grouprep.methods import checks
from grouprep.methods.interface import Method


def _regroup(memory, valid, done, k, iterations):
  """k-means over the remembered embeddings, from K distinct remembered
  embeddings (seeded by the step, the same on every device): every group
  starts non-empty."""
  seeds = jax.random.choice(jax.random.PRNGKey(done), memory.shape[0], (k,),
                            replace=False, p=valid / jnp.sum(valid))
  return protos.kmeans(memory, valid, memory[seeds], iterations)


def make(cfg) -> Method:
  k, q = cfg.num_prototypes, cfg.memory_size
  beta = cfg.encoder_momentum

  def init(rng, encoder, dim, training):
    del training
    return {}, {"prototypes": losses.l2_normalize(
                    jax.random.normal(rng, (k, dim))),
                "memory": jnp.zeros((q, dim)),
                "memory_written": jnp.zeros((), jnp.int32),
                "momentum_encoder": encoder}

  def loss(head, state, batch):
    del head
    zm, zm_loc, momentum_stats = batch.encode(state["momentum_encoder"])
    d = batch.z.shape[-1]
    flat = lambda x: losses.l2_normalize(x.reshape(2, -1, d))  # [2, N, D]
    z, z_loc = flat(batch.z), flat(batch.z_local)
    zm, zm_loc = flat(zm), flat(zm_loc)
    g = state["prototypes"]
    assign = jax.vmap(protos.assign, in_axes=(0, None))
    a, a_loc = assign(zm, g), assign(zm_loc, g)  # [2, N], [2, N / n]
    # Synchronous momentum grouping: sums and counts over every device.
    g_new = protos.ema_update(g, z_loc.reshape(-1, d), a_loc.reshape(-1),
                              cfg.prototype_momentum, axis_name=batch.axis_name)
    kw = dict(temperature=cfg.temperature, similarity="cosine")
    value = 0.5 * (losses.prototype_infonce(z[0], g_new, a[1], **kw) +
                   losses.prototype_infonce(z[1], g_new, a[0], **kw))

    # Untrained state: prototypes, memory, periodic k-means re-grouping.
    g_next = losses.l2_normalize(jax.lax.stop_gradient(g_new))
    n = zm.shape[1]
    slots = (state["memory_written"] + jnp.arange(n)) % q  # a ring buffer
    memory = state["memory"].at[slots].set(zm[0])
    valid = jnp.arange(q) < state["memory_written"] + n
    done = batch.step + 1
    regroup = ((done % cfg.regroup_every == 0) | (done == cfg.regroup_first)
               ) & (jnp.sum(valid) >= k)
    g_next = jax.lax.cond(
        regroup, lambda: _regroup(memory, valid, done, k, cfg.kmeans_iterations),
        lambda: g_next)
    batch_used, entropy = protos.usage(a.reshape(-1), k)
    memory_used, _ = protos.usage(protos.assign(memory, g_next), k,
                                  valid.astype(jnp.float32))
    state = dict(state, prototypes=g_next, memory=memory,
                 memory_written=state["memory_written"] + n,
                 momentum_encoder=dict(state["momentum_encoder"],
                                       batch_stats=momentum_stats))
    return value, (state, {"loss": value, "groups_used_in_batch": batch_used,
                           "assignment_entropy": entropy,
                           "groups_used_in_memory": memory_used})

  def after_step(state, encoder_params):
    """The momentum encoder follows the updated online encoder."""
    momentum = state["momentum_encoder"]
    params = jax.tree.map(lambda mo, p: beta * mo + (1 - beta) * p,
                          momentum["params"], encoder_params)
    return dict(state, momentum_encoder=dict(momentum, params=params))

  def validate(config):
    checks.pools_only_at_evaluation(config)
    checks.batch_candidates_only(config)
    checks.similarity_unused(config, "it is cosine to the prototypes")

  return Method(loss=loss, init=init, after_step=after_step, augmentations=2,
                validate=validate, embedding_space="unit")
