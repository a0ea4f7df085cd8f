#!/usr/bin/env bash
# Start the machine's PostgreSQL (Debian package) for the tests and print the
# SQLAlchemy URL on stdout. The test role's password is made at random per
# machine and kept in .venv/ (never in the repo).
# Prints nothing (and exits 0) when PostgreSQL cannot be started here.
set -uo pipefail

[ "$(id -u)" = 0 ] || exit 0
command -v pg_lsclusters >/dev/null 2>&1 || exit 0
cluster=$(pg_lsclusters -h 2>/dev/null | head -n1)
if [ -z "$cluster" ]; then
  ver=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n1)
  [ -n "$ver" ] || exit 0
  pg_createcluster "$ver" main >/dev/null 2>&1 || exit 0
  cluster=$(pg_lsclusters -h | head -n1)
fi
read -r ver name port status _ <<<"$cluster"
if [ "$status" != online ]; then
  pg_ctlcluster "$ver" "$name" start >/dev/null 2>&1 || exit 0
fi
for _ in $(seq 1 50); do
  su postgres -c "psql -p $port -Atqc 'select 1'" >/dev/null 2>&1 && break
  sleep 0.2
done
secret_file="$(dirname "$0")/../.venv/.pgtest-password"
role_file="$(dirname "$0")/../.venv/.pgtest-role"
if [ ! -s "$secret_file" ]; then
  mkdir -p "$(dirname "$secret_file")"
  head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$secret_file"
fi
# One role (and database) per checkout: two checkouts on one machine (a CI clone
# beside a working copy) would otherwise reset each other's password mid-run.
if [ ! -s "$role_file" ]; then
  echo "kiosk_test_$(head -c 5 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$role_file"
fi
pw=$(cat "$secret_file")
role=$(cat "$role_file")
su postgres -c "psql -p $port -Atq" >/dev/null 2>&1 <<SQL || exit 0
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
    CREATE ROLE $role LOGIN CREATEDB PASSWORD '$pw';
  ELSE
    ALTER ROLE $role LOGIN CREATEDB PASSWORD '$pw';
  END IF;
END \$\$;
-- DROP DATABASE ... WITH (FORCE) ends the other sessions on a test database, and an
-- autovacuum worker busy there counts as one: without this it fails ("must be a
-- member of the role whose process is being terminated or member of pg_signal_backend")
GRANT pg_signal_backend TO $role;
SQL
su postgres -c "psql -p $port -Atqc \"SELECT 1 FROM pg_database WHERE datname='$role'\"" | grep -q 1 \
  || su postgres -c "createdb -p $port -O $role $role" >/dev/null 2>&1
echo "postgresql+psycopg://$role:$pw@127.0.0.1:$port/$role"
