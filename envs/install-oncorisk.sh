#!/usr/bin/env bash
# Post-deploy script of every env in envs/ (each <env>.post-deploy.sh links here). Snakemake runs it once,
# inside the new environment, from the folder snakemake runs in. The env file pins oncorisk's dependencies;
# this installs oncorisk itself from the checkout, editable and without dependencies, so the environment
# follows the checkout's code and never pulls unpinned packages.
# The checkout: $ONCORISK_SRC when set, else the folder snakemake runs in (the README runs it from the checkout).
set -euo pipefail
src="${ONCORISK_SRC:-$PWD}"
if ! grep -qs '^name = "oncorisk"' "$src/pyproject.toml"; then
    echo "envs/install-oncorisk.sh: $src/pyproject.toml: not an oncorisk checkout: run snakemake from the oncorisk checkout, or set ONCORISK_SRC=/path/to/oncorisk" >&2
    exit 1
fi
python -m pip install --quiet --no-deps --editable "$src"
python -c "import oncorisk; print('oncorisk', oncorisk.__version__, 'installed from', '$src')"
