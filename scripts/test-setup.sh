#!/usr/bin/env bash
# What the test suite needs on this machine, installed and started: the
# system packages (when run as root; otherwise the one command to run is
# printed), and a MariaDB server on 127.0.0.1:3306 that root may reach over
# TCP with LOAD DATA LOCAL allowed. `npm test` runs it first (pretest), and
# .ci/run too, so a fresh machine needs no other step.
set -euo pipefail
exec </dev/null
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

# --- packages --------------------------------------------------------------
need=()
# An independent implementation of Open Dental's password hashes, and the TLS test's certificates.
command -v python3 >/dev/null || need+=(python3)
command -v openssl >/dev/null || need+=(openssl)
[ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v tmux >/dev/null || need+=(tmux)
# Tests drive a headless browser; Debian calls it chromium.
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || need+=(chromium)
# A test rebuilds the checked-in WebAssembly row encoder from its C source and compares.
command -v clang >/dev/null || need+=(clang)
command -v wasm-ld >/dev/null || need+=(lld)
# The offsite tests run a real S3 store: Ceph's RADOS Gateway (scripts/s3-gateway.sh).
command -v radosgw >/dev/null || need+=(ceph-mon ceph-osd radosgw ceph-common)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "The tests need: ${need[*]}. Install them with: sudo apt-get install -y --no-install-recommends ${need[*]}" >&2
    exit 1
  fi
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi
command -v npm >/dev/null || { echo "Node.js 20 (with npm) is required." >&2; exit 1; }

# --- MariaDB ---------------------------------------------------------------
ping_db() { mariadb-admin --protocol=TCP -h127.0.0.1 -P3306 -uroot --connect-timeout=2 ping >/dev/null 2>&1; }

if ! ping_db; then
  log "starting MariaDB"
  # The socket directory lives on tmpfs and may be gone.
  mkdir -p /run/mysqld
  chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  for _ in $(seq 1 60); do
    ping_db && break
    sleep 1
  done
  if ! ping_db; then
    echo "MariaDB did not answer on 127.0.0.1:3306 within 60 s; see /var/log/mysql/error.log." >&2
    exit 1
  fi
fi

sql_tcp() { mariadb --protocol=TCP -h127.0.0.1 -P3306 -uroot -N -B -e "$1"; }

# The tests log in as root with no password over TCP (LASTRESORT_TEST_DSN overrides).
# A fresh Debian install lets root in only through the socket; allow the empty
# password too, keeping socket login. This is a throwaway CI server.
if [ -z "${LASTRESORT_TEST_DSN:-}" ] && ! sql_tcp 'SELECT 1' >/dev/null 2>&1; then
  log "allowing root to log in over TCP with no password (test server only)"
  mariadb -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('');
    CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
    GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
    FLUSH PRIVILEGES;"
fi

# Restores load rows with LOAD DATA LOCAL INFILE. It is ON by default in MariaDB.
if [ "$(sql_tcp 'SELECT @@GLOBAL.local_infile')" != "1" ]; then
  log "enabling local_infile"
  sql_tcp 'SET GLOBAL local_infile = 1'
fi

