#!/usr/bin/env bash
# Start the machine's MariaDB (Debian package mariadb-server) for the ILS connector
# tests and print a SQLAlchemy URL (mysql+pymysql://...) on stdout. The test user's
# password is made at random per machine and kept in .venv/ (never in the repo).
# Prints nothing (and exits 0) when MariaDB cannot be started here.
set -uo pipefail

[ "$(id -u)" = 0 ] || exit 0
if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  command -v apt-get >/dev/null 2>&1 || exit 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq mariadb-server >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq mariadb-server >/dev/null 2>&1; } \
    || exit 0
fi
client=$(command -v mariadb || command -v mysql) || exit 0
sock=/run/mysqld/mysqld.sock
if ! "$client" -uroot -S "$sock" -e 'select 1' >/dev/null 2>&1; then
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >/dev/null 2>&1 || exit 0
  # no systemd in containers: start the server in the background ourselves
  (setsid /usr/sbin/mariadbd --user=mysql --socket="$sock" --bind-address=127.0.0.1 \
      --port=3306 >/dev/null 2>&1 &)
  for _ in $(seq 1 100); do
    "$client" -uroot -S "$sock" -e 'select 1' >/dev/null 2>&1 && break
    sleep 0.2
  done
  "$client" -uroot -S "$sock" -e 'select 1' >/dev/null 2>&1 || exit 0
fi
secret_file="$(dirname "$0")/../.venv/.mariadbtest-password"
user_file="$(dirname "$0")/../.venv/.mariadbtest-user"
if [ ! -s "$secret_file" ]; then
  mkdir -p "$(dirname "$secret_file")"
  head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$secret_file"
fi
# One user (and database prefix) per checkout, as tools/pg.sh does for PostgreSQL.
if [ ! -s "$user_file" ]; then
  echo "kiosk_test_$(head -c 5 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$user_file"
fi
pw=$(cat "$secret_file")
user=$(cat "$user_file")
port=$("$client" -uroot -S "$sock" -Nse 'select @@port' 2>/dev/null) || exit 0
"$client" -uroot -S "$sock" >/dev/null 2>&1 <<SQL || exit 0
CREATE USER IF NOT EXISTS '$user'@'127.0.0.1' IDENTIFIED BY '$pw';
ALTER USER '$user'@'127.0.0.1' IDENTIFIED BY '$pw';
-- tests make one database per test (named after this user) and drop it after
GRANT ALL PRIVILEGES ON \`${user}%\`.* TO '$user'@'127.0.0.1';
CREATE DATABASE IF NOT EXISTS \`$user\` CHARACTER SET utf8mb4;
SQL
echo "mysql+pymysql://$user:$pw@127.0.0.1:$port/$user"
