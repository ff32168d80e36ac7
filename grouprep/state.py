"""The train state and the initial variables that training and evaluation
both build (evaluation measures the encoder at initialisation too)."""
from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp
from flax.training import train_state

from grouprep.methods.interface import TrainingGroups
from grouprep.methods.interface import no_training_groups


class TrainState(train_state.TrainState):
  """params = {"encoder": the model's, "head": the method's trainable head};
  extra: the method's state that gradients do not train (SMoG's prototypes,
  memory and momentum encoder)."""
  batch_stats: Any
  rng: jax.Array
  extra: Any


class Initial(NamedTuple):
  """encoder: {"params", "batch_stats"}; head, method_state: Method.init's;
  rng: the train state's random stream."""
  encoder: dict
  head: Any
  method_state: Any
  rng: jax.Array


def initial(seed: int, model, method, image_shape,
            training: Optional[TrainingGroups] = None) -> Initial:
  """The variables a run starts from: model.init and method.init, seeded by
  `seed`. image_shape: (S, S, 1); training: what the method may know of the
  training groups (default: one class, no data; enough for the encoder and
  the head)."""
  init_rng, state_rng = jax.random.split(jax.random.PRNGKey(seed))
  head_rng = jax.random.fold_in(init_rng, 1)
  x = jnp.zeros((1,) + tuple(image_shape), jnp.float32)
  variables = jax.jit(lambda r: model.init(r, x, train=False))(init_rng)
  dim = jax.eval_shape(lambda v: model.apply(v, x, train=False),
                       variables).shape[-1]
  encoder = {"params": variables["params"],
             "batch_stats": variables.get("batch_stats", {})}
  head, method_state = method.init(head_rng, encoder, dim,
                                   training or no_training_groups())
  return Initial(encoder, head, method_state, state_rng)


def encoder_variables(state) -> dict:
  """The variables model.apply takes (encoder params and BatchNorm stats) of
  a TrainState or of a restored checkpoint's state dict."""
  if isinstance(state, dict):
    return {"params": state["params"]["encoder"],
            "batch_stats": state["batch_stats"]}
  return {"params": state.params["encoder"], "batch_stats": state.batch_stats}
