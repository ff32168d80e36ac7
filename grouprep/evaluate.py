"""Evaluation: `evaluate(config, workdir)` restores the latest checkpoint,
runs the evaluators of `config.evals` (each with its own settings; the
names of config.eval.only alone, when it names any) on the trained encoder
and on the same encoder at initialisation, and writes metrics.json,
report.md and the plots. The evaluation during training
(`make_periodic_eval`) is another instance, with its own settings
(config.eval.during_training). The evaluators are in evaluators/ (one module
each), the metrics they compute in metrics.py, the data they read come
from the data source (data/sources/). The untrained encoder's evaluation is
computed once per untrained_key (seed, model, data, pooling, evaluation
settings, metrics version, code, stack) and reused from the grouprep cache
($GROUPREP_REUSE_UNTRAINED=0: never).
"""
import collections.abc
import dataclasses
import functools
import hashlib
import inspect
import json
import os
import time
from typing import Dict, Optional, Tuple

from absl import logging
import jax
import numpy as np

from grouprep import checkpoints
from grouprep import encoder as encoder_lib
from grouprep import logs
from grouprep import metrics
from grouprep import models
from grouprep import platform
from grouprep import validation
from grouprep.data import lake as lake_data
from grouprep.data import shared
from grouprep.data.sources import registry as sources
from grouprep.evaluators import common
from grouprep.evaluators.registry import EVALUATORS
from grouprep.evaluators.registry import in_order
from grouprep.methods.registry import get_method


class Inputs:
  """The data every encoder is evaluated on, each loaded once, on first use,
  from the source: split(name) -> SplitData (max_characters characters at
  most); train_characters() -> (images, groups, what they are); lake_runs()
  -> the runs (at image_size) or None. lake_runs_file: the lake evaluator's
  `runs` setting (None: ../shared/omniglot/all_runs.zip); data_dir: where
  else to look for ../shared."""

  def __init__(self, source, image_size: int, max_characters: int = 0,
               lake_runs_file: Optional[str] = None,
               data_dir: Optional[str] = None):
    self.source, self.image_size = source, image_size
    self.max_characters = max_characters
    self.lake_path = shared.find(lake_data.RUNS_FILE, lake_runs_file,
                                 "evals.lake.runs", data_dir)
    self._cache = {}

  @classmethod
  def of(cls, config, evals: Optional[Dict] = None) -> "Inputs":
    """The inputs of config's evaluation: its data source, image size and
    max_characters, and Lake's runs where evals ({name: settings}) has a
    lake evaluator."""
    lake = (evals or {}).get("lake")
    return cls(sources.get(config.data, config.seed), config.data.image_size,
               config.eval.max_characters, lake.runs if lake else None,
               config.data.data_dir)

  def _once(self, key, compute):
    if key not in self._cache:
      self._cache[key] = compute()
    return self._cache[key]

  def loaded(self) -> Dict:
    """What has been loaded so far: {key: data}."""
    return dict(self._cache)

  def split(self, name: str):
    return self._once(("split", name), lambda: self.source.eval_split(
        name, self.max_characters))

  def train_characters(self):
    return self._once("train", self.source.train_characters)

  def lake_runs(self, image_size: Optional[int] = None):
    if not self.lake_path:
      return None
    size = image_size or self.image_size
    return self._once(("lake", size), lambda: lake_data.load_runs(
        self.lake_path, size, self.source.lake_runs_excluded))


def selected(config) -> Dict:
  """{name: settings} of the evaluators run at the end: config.evals, or
  those of config.eval.only when it names any."""
  only = tuple(config.eval.get("only", ()))
  return {n: config.evals[n] for n in config.evals if not only or n in only}


def evaluation_splits(config, source) -> Tuple[str, ...]:
  """The splits read at the end: config.eval.splits, in the source's
  order, or every one of source.eval_splits."""
  only = tuple(config.eval.get("splits", ()))
  return tuple(s for s in source.eval_splits if not only or s in only)


def offered(source) -> set:
  """What the source offers on some evaluation split of its own."""
  out = set(source.offers)
  for name in source.eval_splits:
    out |= set(source.splits[name].offers)
  return out


def skipped(evals: Dict, source) -> Dict[str, str]:
  """{name: why} of the evaluators of `evals` that need what the source
  offers on none of its splits."""
  offers = offered(source)
  return {n: source.skip_reason(EVALUATORS[n].missing(offers))
          for n in in_order(evals) if EVALUATORS[n].missing(offers)}


def evaluate_encoder(encoder: common.EncoderView, split_names, evals: Dict,
                     keep: str = None):
  """{split: metrics, encoder-level keys...} of the evaluators `evals`
  ({name: settings}) on `split_names`, each where the source and the split
  offer what it needs; the SplitView of split `keep` is returned too (for
  the report's plots)."""
  source = encoder.inputs.source
  out, kept = {}, None
  for name in in_order(evals):
    ev = EVALUATORS[name]
    if ev.run_encoder and not ev.missing(offered(source)):
      out.update(ev.run_encoder(encoder, evals[name]))
  for split_name in split_names:
    split = encoder.split(split_name)
    result = split.data.sizes()
    offers = set(source.offers) | set(split.data.offers)
    for name in in_order(evals):
      ev = EVALUATORS[name]
      if ev.run_split and not ev.missing(offers):
        result.update(ev.run_split(encoder, split, evals[name]))
    out[split_name] = result
    if split_name == keep:
      kept = split
  return out, kept


def encoder_view(config, model, variables, head, inputs: Inputs,
                 apply=None) -> common.EncoderView:
  """The encoder evaluate measures: variables {"params", "batch_stats"} in
  eval mode, config.eval.batch_size images a batch, in the method's Space
  with its head; apply: an encoder.make_apply_fn(model) to share."""
  return common.EncoderView(
      encoder_lib.make_embed_fn(model, variables, config.eval.batch_size,
                                apply),
      encoder_lib.Space.of(get_method(config.loss), config.loss.pooling,
                           head),
      inputs, config.seed, config.eval.batch_size)


def make_periodic_eval(config, model):
  """fn(encoder variables, head) -> {"SPLIT/metric": value}: the evaluation
  during training, an instance of the evaluators with its own settings
  (config.eval.during_training: name -> settings), on the source's
  validation split, logging what each evaluator's `scalars` picks. Data are
  loaded once."""
  evals = dict(config.eval.during_training.items())
  inputs = Inputs.of(config)
  split_name = inputs.source.validation_split
  apply = encoder_lib.make_apply_fn(model)

  def periodic_eval(variables, head=None) -> Dict:
    encoder = encoder_view(config, model, variables, head, inputs, apply)
    with jax.default_matmul_precision(config.eval.matmul_precision):
      result, _ = evaluate_encoder(encoder, (split_name,), evals)
    scalars = {}
    for name in in_order(evals):
      if EVALUATORS[name].scalars:
        scalars.update(EVALUATORS[name].scalars(result[split_name]))
    return {f"{split_name}/{k}": v for k, v in scalars.items()}

  return periodic_eval


# --------------------------------------------------------------------------
# The untrained encoder's evaluation: computed once per key, then reused.
# --------------------------------------------------------------------------
# Config fields the untrained encoder's evaluation does not read: training's
# batch shape, where the data live and how training holds them, and the
# evaluation during training.
NOT_IN_UNTRAINED_KEY = {
    "data": ("classes_per_batch", "groups_per_class", "items_per_group",
             "data_dir", "cache_dir", "download", "on_device"),
    "eval": ("every", "during_training", "only")}


def untrained_cache_dir(config) -> Optional[str]:
  """Where untrained evaluations are kept: untrained_eval/ in the grouprep
  cache (config.data.cache_dir, else $GROUPREP_CACHE, else ~/.cache/grouprep);
  None (no reuse) when $GROUPREP_REUSE_UNTRAINED is 0."""
  if os.environ.get("GROUPREP_REUSE_UNTRAINED", "1") == "0":
    return None
  from grouprep.data import omniglot  # pylint: disable=g-import-not-at-top
  return os.path.join(config.data.cache_dir or omniglot.default_cache_dir(),
                      "untrained_eval")


def _feed(h, x, memo: Dict) -> None:
  """Adds x (arrays, mappings, sequences, dataclasses, scalars) to hash h;
  an array's digest is computed once per object (memo)."""
  if isinstance(x, np.ndarray) and x.dtype == object:
    _feed(h, x.tolist(), memo)
  elif isinstance(x, (np.ndarray, jax.Array)):
    if id(x) not in memo:
      a = np.ascontiguousarray(x)
      h_a = hashlib.sha256(f"{a.dtype}{a.shape}".encode())
      h_a.update(a.reshape(-1).view(np.uint8))
      memo[id(x)] = (x, h_a.digest())
    h.update(memo[id(x)][1])
  elif isinstance(x, collections.abc.Mapping):
    for k in sorted(x, key=str):
      h.update(str(k).encode())
      _feed(h, x[k], memo)
  elif dataclasses.is_dataclass(x):
    h.update(type(x).__name__.encode())
    for f in dataclasses.fields(x):
      h.update(f.name.encode())
      _feed(h, getattr(x, f.name), memo)
  elif isinstance(x, (list, tuple)):
    h.update(b"[")
    for v in x:
      _feed(h, v, memo)
    h.update(b"]")
  else:
    h.update(repr(x).encode())


def digest(*xs) -> str:
  """sha256 of arrays, mappings, sequences, dataclasses and scalars."""
  h, memo = hashlib.sha256(), {}
  for x in xs:
    _feed(h, x, memo)
  return h.hexdigest()


@functools.lru_cache(maxsize=None)
def code_digest() -> str:
  """sha256 of grouprep's source files: any change to the code is a new
  untrained key."""
  root = os.path.dirname(os.path.abspath(__file__))
  h = hashlib.sha256()
  for folder, dirs, files in sorted(os.walk(root)):
    dirs.sort()
    for name in sorted(files):
      if name.endswith(".py"):
        path = os.path.join(folder, name)
        h.update(os.path.relpath(path, root).encode())
        with open(path, "rb") as f:
          h.update(f.read())
  return h.hexdigest()


def _code_of(code) -> bytes:
  """A code object's bytecode, the names it reads and its constants, the
  nested code objects (lambdas, comprehensions) recursed into: the same
  text gives the same bytes in every process (no addresses)."""
  consts = [_code_of(c) if hasattr(c, "co_code") else repr(c).encode()
            for c in code.co_consts]
  return b"|".join([code.co_code, repr(code.co_names).encode()] + consts)


def _code_bytes(obj) -> bytes:
  """The code of a registered function or class: its module file's text
  where it has one (so the helpers it calls there count too), else
  (defined in exec'd text, `python -c` or a notebook) the code of its
  functions (_code_of)."""
  if isinstance(obj, functools.partial):
    obj = obj.func
  obj = inspect.unwrap(obj)  # jax.jit, functools.wraps
  try:
    path = inspect.getsourcefile(obj)
  except (TypeError, OSError):  # a builtin, or no file behind its module
    path = None
  if path and os.path.exists(path):
    with open(path, "rb") as f:
      return f.read()
  members = vars(obj).values() if isinstance(obj, type) else [obj]
  return b"".join(_code_of(m.__code__) for m in members
                  if hasattr(m, "__code__"))


def _in_grouprep(obj) -> bool:
  """Defined in grouprep (or Python itself): code_digest covers it."""
  module = getattr(obj, "__module__", None) or ""
  return (module == "grouprep" or module.startswith("grouprep.")
          or obj is object or module in ("abc", "typing"))


def registered_code_digest(config) -> str:
  """sha256 of the code from outside grouprep that config's untrained
  evaluation runs: a pooling, evaluator or data source a project
  registered (code_digest covers grouprep's own), so editing one that
  keeps its name is a new untrained key."""
  from grouprep import pooling as pooling_lib  # pylint: disable=g-import-not-at-top
  objs = [pooling_lib.POOLINGS.get(config.loss.pooling)]
  for name in selected(config):
    ev = EVALUATORS[name]
    objs += [ev.run_split, ev.run_encoder, ev.run_data, ev.validate,
             ev.scalars]
  objs += list(getattr(sources.SOURCES.get(sources.name_of(config.data)),
                       "__mro__", ()))
  h = hashlib.sha256()
  for obj in objs:
    if obj is not None and not _in_grouprep(obj):
      h.update(_code_bytes(obj))
  return h.hexdigest()


def untrained_key(config, encoder: common.EncoderView, variables,
                  inputs: Inputs) -> Dict:
  """Everything the untrained encoder's evaluation depends on: the seed, the
  model and its initial variables, the space and pooling (with a learned
  pooling's parameters), the data config and the data read (inputs, after
  an evaluation loaded them), the evaluation settings, grouprep's metrics
  version and code (and the code of a pooling, evaluator or data source a
  project registered), and the stack and device that compute."""
  import jaxlib  # pylint: disable=g-import-not-at-top
  section = lambda name: {k: v for k, v in config[name].to_dict().items()
                          if k not in NOT_IN_UNTRAINED_KEY.get(name, ())}
  space = encoder.space
  return {"metrics_version": metrics.METRICS_VERSION,
          "code": code_digest(),
          "registered_code": registered_code_digest(config),
          "seed": int(config.seed),
          "model": section("model"), "data": section("data"),
          "eval": section("eval"),
          "evals": {n: s.to_dict() for n, s in selected(config).items()},
          "space": [space.name, bool(space.pools_in_loss),
                    config.loss.pooling],
          "variables": digest(variables, space.pool_params),
          "inputs": digest(sorted(inputs.loaded().items(),
                                  key=lambda item: repr(item[0]))),
          "stack": dict(platform.stack(), jaxlib=jaxlib.__version__,
                        numpy=np.__version__)}


def reuse_or_evaluate(key: Dict, compute, cache_dir: Optional[str]) -> Dict:
  """The result stored in cache_dir under key, else compute()'s, stored
  there (when cache_dir is not None; a failed write only loses the reuse).
  Either way as JSON reads it back, so a reused result equals a fresh one."""
  text = json.dumps(key, sort_keys=True, default=str)
  path = cache_dir and os.path.join(
      cache_dir, hashlib.sha256(text.encode()).hexdigest() + ".json")
  if path and os.path.exists(path):
    try:
      with open(path) as f:
        saved = json.load(f)
      if json.dumps(saved.get("key"), sort_keys=True) == text:
        return saved["result"]
    except (OSError, ValueError):
      pass  # unreadable: computed again and rewritten
  result = json.loads(json.dumps(compute()))
  if path:
    try:
      os.makedirs(cache_dir, exist_ok=True)
      tmp = f"{path}.{os.getpid()}.tmp"
      with open(tmp, "w") as f:
        json.dump({"key": json.loads(text), "result": result}, f)
      os.replace(tmp, path)
    except OSError as e:
      logging.warning("untrained evaluation not kept for reuse: %s", e)
  return result


def evaluate(config, workdir: str) -> Dict:
  """Restores the latest checkpoint of workdir; writes metrics.json, report.md
  and the plots there. Matmuls at config.eval.matmul_precision."""
  validation.validate(config)
  with jax.default_matmul_precision(config.eval.matmul_precision):
    return _evaluate(config, workdir)


def _evaluate(config, workdir: str) -> Dict:
  from grouprep import report  # pylint: disable=g-import-not-at-top
  t0 = time.time()
  trained = encoder_lib.restore(workdir, config)
  step, metadata, where = trained.step, trained.metadata, trained.where
  evals = selected(config)
  inputs = Inputs.of(config, evals)
  source = inputs.source
  # The held-out labels must be those it never saw.
  checkpoints.check_dataset(metadata, source.summary(), where, step)
  model = models.create_model(config.model)
  method = get_method(config.loss)
  apply = encoder_lib.make_apply_fn(model)

  def encoder(variables, head):
    return encoder_view(config, model, variables, head, inputs, apply)

  splits = evaluation_splits(config, source)
  result_trained, plotted = evaluate_encoder(
      encoder(trained.variables, trained.head), splits, evals,
      keep=source.plotted)
  # The untrained encoder, the same model at initialisation; after the
  # trained one: the inputs it loaded are the key's.
  untrained = encoder(trained.initial.encoder, trained.initial.head)
  result_untrained = reuse_or_evaluate(
      untrained_key(config, untrained, trained.initial.encoder, inputs),
      lambda: evaluate_encoder(untrained, splits, evals)[0],
      untrained_cache_dir(config))
  result = {"config": config.name, "step": int(step),
            "embedding_space": method.embedding_space,
            "num_devices": (logs.trained_devices(workdir) or
                            platform.resolve_num_devices(config.num_devices)),
            "model": config.model.name + (
                f"+head{config.model.embed_dim}" if config.model.embed_dim
                else ""), "pooling": config.loss.pooling,
            "fewshot_queries": (config.evals.fewshot.queries
                                if "fewshot" in config.evals else None),
            # Training's precision is an identity field (a run resumes only
            # at its own); checkpoints from before it trained in float32.
            "matmul_precision": {
                "train": (metadata or {}).get("matmul_precision", "highest"),
                "eval": config.eval.matmul_precision},
            "stack": platform.stack(),  # evaluation's
            "trained_stack": (metadata or {}).get("stack", "not recorded"),
            "eval": result_trained, "untrained": result_untrained}
  trained_on = source.trained_on()
  if trained_on:
    result["trained_on"] = trained_on
  skips = skipped(evals, source)
  if skips:
    result["skipped_evaluators"] = skips
  for name in in_order(evals):
    if EVALUATORS[name].run_data and name not in skips:
      result.update(EVALUATORS[name].run_data(inputs, evals[name]))
  result["eval_seconds"] = round(time.time() - t0, 1)

  path = os.path.join(workdir, "metrics.json")
  with open(path + ".tmp", "w") as f:
    json.dump(result, f, indent=2)
  os.replace(path + ".tmp", path)
  report.write_run_report(workdir, result, plotted)
  print(report.headline(result), flush=True)
  return result
