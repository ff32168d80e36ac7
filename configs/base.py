"""Fields shared by every grouprep configuration.

A config file builds on `get_base_config(arg)`; `arg == "smoke"` shrinks the run
to a ~1 minute end-to-end check (few steps, small batch).
"""
import ml_collections


def _path():
  """A path field: None until set, typed str so the command line can set it
  (a bare None default cannot be overridden by ml_collections' flags)."""
  return ml_collections.config_dict.placeholder(str)


def get_base_config(arg=None) -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.name = "base"
  config.seed = 0
  # Devices of the pmapped step (per process). 0: 2 virtual devices on CPU,
  # whatever its core count; every accelerator on GPU/TPU. Config, not host.
  config.num_devices = 0

  config.data = ml_collections.ConfigDict()
  # Where the images come from: omniglot (TFDS) | folder (data.path holds
  # LABEL/GROUP/IMAGE) | csv (data.path is a file of path,label,group rows).
  # A folder / CSV dataset trains on its labels less a seeded
  # heldout_label_fraction of them, which are its evaluation split; its
  # images are dark strokes on a light background ("dark") or "bright".
  config.data.source = "omniglot"
  config.data.path = _path()
  config.data.heldout_label_fraction = 0.2
  config.data.strokes = "dark"
  config.data.data_dir = _path()  # None: TFDS_DATA_DIR or ~/tensorflow_datasets.
  config.data.cache_dir = _path()  # None: $GROUPREP_CACHE or ~/.cache/grouprep.
  config.data.download = True  # Prepare via TFDS when absent (needs network).
  config.data.image_size = 28
  # What training reads: background (the note's 30 alphabets minus held-out
  # characters) | vinyals_train | vinyals_trainval (ProtoNet's split).
  config.data.train_split = "background"
  config.data.vinyals_dir = _path()  # None: shared/omniglot/splits/vinyals.
  # What a class is: alphabet | character | image (each image its own). The
  # Vinyals split's classes are its (character, rotation) pairs.
  config.data.label_key = "alphabet"
  # What a group is: rotation | random | charset (disjoint character sets of
  # a class, upright drawings: the disjoint-character protocol, for training).
  config.data.group_key = "rotation"
  # Items per group for group_key="random" and the Vinyals split (0: all 20).
  config.data.group_size = 0
  config.data.charsets_per_alphabet = 4  # Groups per class, group_key="charset".
  config.data.heldout_fraction = 0.2  # Characters of each training alphabet kept out.
  config.data.classes_per_batch = 16  # C
  config.data.groups_per_class = 2  # V
  config.data.items_per_group = 8  # M
  # Where the training images live: auto (on the devices as uint8, where the
  # step gathers each batch by index, when they fit: at most 1 GiB and a
  # quarter of a device's memory, train.images_on_device) | always | never
  # (the host gathers each batch and copies it as float32). Same numbers.
  config.data.on_device = "auto"

  config.model = ml_collections.ConfigDict()
  config.model.name = "conv4"
  config.model.width = 64
  config.model.embed_dim = 0  # 0: no projection head (Conv-4's 64-d output).

  config.loss = ml_collections.ConfigDict()
  config.loss.name = "group_item"
  config.loss.pooling = "centroid"
  config.loss.similarity = "cosine"
  config.loss.temperature = 0.1
  # group_item / group_group: contrast with the batch's groups ("batch") or
  # with EMA prototypes of every training group ("prototypes", the note's
  # momentum group embeddings, beta = prototype_momentum). With prototypes,
  # above streaming_above candidates the loss streams (O(chunk * K) memory);
  # a batch's few groups always take the dense loss.
  config.loss.candidates = "batch"
  config.loss.prototype_momentum = 0.9
  config.loss.streaming_above = 4096
  # Train on one random affine view of each image (zoom +-15 %, shift +-10 %,
  # data/augment.py) instead of the image; item_item and SMoG always
  # contrast two such views.
  config.loss.augment = False

  config.train = ml_collections.ConfigDict()
  config.train.num_steps = 500
  config.train.optimizer = "adam"  # adam | sgd (momentum 0.9)
  config.train.learning_rate = 1e-3
  config.train.schedule = "cosine"  # constant | cosine | step
  config.train.warmup_steps = 50  # schedule="cosine" only.
  config.train.decay_every = 2000  # schedule="step": lr x decay_factor every N.
  config.train.decay_factor = 0.5
  config.train.weight_decay = 0.0  # optimizer="adam" only (AdamW when > 0).
  config.train.checkpoint_every = 100
  config.train.keep_checkpoints = 3
  config.train.log_every = 25
  # Matmul and convolution precision (jax.default_matmul_precision): highest
  # (float32 everywhere, the same numbers on CPU, GPU and TPU) | high (TF32
  # on NVIDIA GPUs, bf16x3 on TPU) | default (the platform's fastest: TF32
  # on NVIDIA GPUs, one bf16 pass on TPU, float32 on CPU). Recorded in
  # metrics.json; docs/accelerators.md measures what lower ones change.
  config.train.matmul_precision = "highest"

  # The evaluation shared by every evaluator: the embedding pass, and which
  # characters the evaluation splits hold.
  config.eval = ml_collections.ConfigDict()
  config.eval.batch_size = 2048  # Images per forward pass.
  config.eval.matmul_precision = "highest"  # As train.matmul_precision.
  config.eval.max_characters = 0  # Per evaluation split; 0: all characters.
  # The evaluators of config.evals to run ('distance', 'fewshot', ...);
  # (): all of them.
  config.eval.only = ()
  # The evaluation splits read at the end ('heldout_characters', ...); ():
  # every one the data source evaluates (a tuning sweep reads validation
  # alone).
  config.eval.splits = ()

  # The evaluators run at the end, each with its own settings
  # (grouprep/evaluators/: one module each, registry.py names them), on
  # each split that offers what it needs (grouprep/data/sources/).
  config.evals = ml_collections.ConfigDict()
  config.evals.distance = ml_collections.ConfigDict()
  config.evals.retrieval = ml_collections.ConfigDict()
  config.evals.item_to_group = ml_collections.ConfigDict()
  # Theorem 1: m measured on the training groups, the bound on evaluation
  # groups; a seeded sample of `sampled_items` items in all, spread evenly
  # over the groups, on both (the same count, as m is a maximum that grows
  # with the sample; 0: all items), and `triplets` sampled evaluation
  # triplets.
  config.evals.theorem1 = ml_collections.ConfigDict(
      dict(sampled_items=20480, triplets=1_000_000))
  # The disjoint-character protocol: each alphabet's characters cut into
  # this many disjoint sets, a group = the upright drawings of one set; the
  # size curve pools n drawings per group (0: all) over seeded resamples.
  config.evals.disjoint_characters = ml_collections.ConfigDict(
      dict(charsets_per_alphabet=2, size_curve=(1, 2, 5, 10, 20, 50, 0),
           resamples=20))
  # N-way K-shot with centroid prototypes: episodes, query items per class.
  config.evals.fewshot = ml_collections.ConfigDict(
      dict(episodes=1000, queries=5))
  # Lake's runs: None reads ../shared/omniglot/all_runs.zip.
  config.evals.lake = ml_collections.ConfigDict(dict(runs=_path()))

  # Evaluation during training, every N steps (0: never), on the data
  # source's validation split, logged to eval_log.jsonl against training
  # wall time: another instance of the evaluators, with its own settings.
  config.eval.every = 0
  config.eval.during_training = ml_collections.ConfigDict()
  config.eval.during_training.fewshot = ml_collections.ConfigDict(
      dict(episodes=200, queries=5))

  if arg == "smoke":
    config.data.classes_per_batch = 8
    config.data.items_per_group = 8
    config.train.num_steps = 30
    config.train.warmup_steps = 5
    config.train.checkpoint_every = 10
    config.train.log_every = 10
    config.eval.max_characters = 60
    config.evals.theorem1.sampled_items = 5120
    config.evals.theorem1.triplets = 100_000
    config.evals.disjoint_characters.resamples = 3
  elif arg not in (None, ""):
    raise ValueError(f"Unknown config argument {arg!r}; use ':smoke' or none.")
  return config
