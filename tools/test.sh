#!/usr/bin/env bash
# The whole test suite: lint, types, then pytest under a virtual X display
# with a real PostgreSQL server when one can be started here.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

tools/debs.sh test

echo "== ruff"
$BIN/ruff check .
$BIN/ruff format --check .
echo "== import contracts"
$BIN/lint-imports --no-cache
echo "== mypy"
$BIN/mypy $(cat tools/mypy-scope)

if [ -z "${KIOSK_TEST_PG_URL:-}" ]; then
  url=$(tools/pg.sh || true)
  [ -n "$url" ] && export KIOSK_TEST_PG_URL="$url"
fi
[ -n "${KIOSK_TEST_PG_URL:-}" ] && echo "== PostgreSQL for tests: ${KIOSK_TEST_PG_URL%%:*}://…" \
  || echo "== no PostgreSQL here: its tests skip (run as root, or set KIOSK_TEST_PG_URL)"

if [ -z "${KIOSK_TEST_MARIADB_URL:-}" ]; then
  url=$(tools/mariadb.sh || true)
  [ -n "$url" ] && export KIOSK_TEST_MARIADB_URL="$url"
fi
[ -n "${KIOSK_TEST_MARIADB_URL:-}" ] && echo "== MariaDB for tests (ILS connectors): mysql+pymysql://…" \
  || echo "== no MariaDB here: the ILS connector tests skip (run as root, or set KIOSK_TEST_MARIADB_URL)"

export KIVY_NO_ARGS=1 KIVY_LOG_LEVEL=warning
echo "== pytest"
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null 2>&1; then
  exec xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" $BIN/pytest "$@"
fi
exec $BIN/pytest "$@"
