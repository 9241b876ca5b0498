#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: uv, the workspace, PostgreSQL binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1 && [ ! -x "$HOME/.local/bin/uv" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --user uv 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check uv
fi
UV=$(command -v uv 2>/dev/null || echo "$HOME/.local/bin/uv")
# Bytecode at install, not at every start: where PYTHONDONTWRITEBYTECODE is set (as on the CI
# machines) Python never keeps what it compiles, so every process — each service process the
# tests start — compiled FastAPI, SQLAlchemy, pydantic … again: ~2 s of CPU a start, 3x the
# start itself. Up-to-date files are skipped, so a second run costs about a second.
"$UV" sync --all-packages --locked --quiet --compile-bytecode
"$UV" run --no-sync python -m compileall -q -j 0 shared/src services/*/src bench >/dev/null
