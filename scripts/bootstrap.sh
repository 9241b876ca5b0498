#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: uv, the workspace, PostgreSQL binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1 && [ ! -x "$HOME/.local/bin/uv" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --user uv 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check uv
fi
UV=$(command -v uv 2>/dev/null || echo "$HOME/.local/bin/uv")
"$UV" sync --all-packages --locked --quiet
