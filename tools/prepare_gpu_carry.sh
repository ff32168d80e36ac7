#!/usr/bin/env bash
# Builds what a lent GPU machine (no network; Python 3.12 with JAX/CUDA,
# flax, optax, orbax-checkpoint and chex) needs beside the checkout, both
# git-ignored: .whl/ (the wheels it lacks, at the versions this install
# runs) and .gpu/shared/ (the prepared Omniglot from ../shared). Needs the
# package registry. Then carry both: run(carry=[".whl", ".gpu"], ...) and
# bash tools/accelerator_check.sh or tools/gpu_sweep.sh there.
#   bash tools/prepare_gpu_carry.sh [PYTHON]  (this install's; default python3)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-python3}
NAMES="ml_collections array_record tensorflow-datasets tensorboardX dm-tree
immutabledict simple-parsing docstring_parser tensorflow-metadata
googleapis-common-protos termcolor toml flax optax orbax-checkpoint chex"
pins=()
for name in $NAMES; do  # this install's version where it has the package
  version=$($PY -m pip show "$name" 2>/dev/null | awk '/^Version:/ {print $2}')
  pins+=("$name${version:+==$version}")
done
rm -rf .whl && mkdir -p .whl
$PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform any -d .whl "${pins[@]}"
$PY -m pip wheel -q --no-deps promise -w .whl  # a source-only dependency
rm -rf .gpu && mkdir -p .gpu/shared
cp -r ../shared/tensorflow_datasets ../shared/omniglot .gpu/shared/
echo "pins: ${pins[*]}"
du -sh .whl .gpu
