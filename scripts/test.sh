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
# One pytest run per test tree: each service's tests are their own package ("tests"), as in
# a real monorepo where CI may test a member alone; the shared library and the cross-service
# integration tests run first.
status=0
for tree in "shared/tests tests/integration" services/*-service/tests; do
  echo "== pytest $tree"
  # shellcheck disable=SC2086
  "$UV" run pytest -p no:cacheprovider $tree "$@" || status=$?
done
exit $status
