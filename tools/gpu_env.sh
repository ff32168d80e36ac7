# Sourced by the scripts that run on a lent GPU machine (no network; its
# Python has JAX with CUDA, flax, optax, orbax-checkpoint and chex): installs
# the carried wheels (.whl/) into $WORK/site, links the carried Omniglot
# (.gpu/shared) as ../shared where that is missing, and sets the
# environment grouprep's runs expect there. The caller sets OUT (the output
# folder), WORK (the scratch folder) and LOG_NAME (its log in OUT); this
# makes both folders, moves to the repository root and defines PY and
# log().
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
PY=${PYTHON:-python3}
mkdir -p "$WORK"
t0=$(date +%s)
log() { echo "[$(( $(date +%s) - t0 ))s] $*" | tee -a "$OUT/$LOG_NAME"; }
if ls .whl/*.whl > /dev/null 2>&1; then
  site=$WORK/site
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
      --upgrade --target "$site" .whl/*.whl > "$OUT/install.log" 2>&1 \
      || log "pip install of .whl failed (see install.log)"
  # The checkout too: the tests' subprocesses import grouprep from elsewhere.
  export PYTHONPATH=$PWD:$site${PYTHONPATH:+:$PYTHONPATH}
  # A carried library that does not import beside this JAX: the machine's own.
  for mod in orbax.checkpoint flax optax chex; do
    if ! $PY -c "import $mod" >> "$OUT/install.log" 2>&1; then
      log "carried $mod does not import here; using the machine's"
      rm -rf "$site/${mod%%.*}" "$site/${mod%%.*}"[-_]*
    fi
  done
fi
if [ ! -d ../shared/tensorflow_datasets ] && [ -d .gpu/shared ]; then
  ln -sfn "$PWD/.gpu/shared" ../shared
fi
export TFDS_DATA_DIR=${TFDS_DATA_DIR:-$(cd ../shared && pwd)/tensorflow_datasets}
export GROUPREP_CACHE=$WORK/cache
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # several runs share one GPU
export JAX_COMPILATION_CACHE_DIR=$WORK/jax-cache
export PYTHONUNBUFFERED=1
