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
# Known vulnerabilities of the locked third-party dependencies (pip-audit, PyPI's advisories).
# It needs PyPI's per-release JSON API; where that cannot be reached (the offline CI machines
# answer 404 for every release) it says how much it could audit and does not fail the run. A
# vulnerability it does find fails it.
echo "== pip-audit"
audit_dir=$(mktemp -d)
"$UV" export --all-packages --no-emit-workspace --format requirements-txt -q \
  -o "$audit_dir/requirements.txt"
"$UV" run --with pip-audit pip-audit -r "$audit_dir/requirements.txt" --disable-pip \
  --progress-spinner off -f json -o "$audit_dir/audit.json" >/dev/null 2>&1 || true
"$UV" run python - "$audit_dir/audit.json" <<'PY' || status_audit=$?
import json, sys
try:
    deps = json.load(open(sys.argv[1]))["dependencies"]
except (OSError, ValueError, KeyError) as error:
    print(f"pip-audit did not run ({error}); not failing")
    sys.exit(0)
vulnerable = [d for d in deps if d.get("vulns")]
skipped = [d for d in deps if "skip_reason" in d]
for d in vulnerable:
    print(f"VULNERABLE {d['name']} {d['version']}: {', '.join(v['id'] for v in d['vulns'])}")
print(f"pip-audit: {len(deps) - len(skipped)} of {len(deps)} dependencies audited", end="")
print(" (PyPI's vulnerability data unreachable for the rest; not failing)" if skipped else "")
sys.exit(1 if vulnerable else 0)
PY
rm -rf "$audit_dir"
# One pytest run per test tree: each service's tests are their own package ("tests"), as in
# a real monorepo where CI may test a member alone; the shared library and the cross-service
# integration tests run first. The fault-injection suite runs last, alone (its own PostgreSQL,
# broker and service processes); NAERVAER_FAULTS_COMMANDS sizes it (README: 300 by default).
status=${status_audit:-0}
for tree in "shared/tests tests/integration tests/hostile" services/*-service/tests tests/faults; do
  echo "== pytest $tree"
  # shellcheck disable=SC2086
  "$UV" run pytest -p no:cacheprovider $tree "$@" || status=$?
done
exit $status
