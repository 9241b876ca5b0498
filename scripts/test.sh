#!/usr/bin/env bash
# The whole test run: lint, types, schema drift, migrations, unit + integration tests.
# PostgreSQL and the Kafka-protocol broker are started by the test fixtures unless
# TEST_DATABASE_URL / TEST_KAFKA_BOOTSTRAP point at running ones.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
UV=$(command -v uv 2>/dev/null || echo "$HOME/.local/bin/uv")

if [ -z "${TEST_DATABASE_URL:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "PostgreSQL server binaries missing: installing Debian's postgresql package"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null
fi

echo "== ruff"; "$UV" run ruff check shared services tests
"$UV" run ruff format --check shared services tests
echo "== import contracts"; "$UV" run lint-imports
echo "== mypy"; "$UV" run mypy
echo "== pytest"
"$UV" run pytest -p no:cacheprovider "$@"
