# shellcheck shell=bash
# PostgreSQL from Debian's package, run through pg_ctlcluster (no systemd here).
# Its data stays in Debian's place (/var/lib/postgresql/<v>/main): the package owns that cluster.

postgres_port=5432
PG_USER=keel PG_PASS=keel PG_DB=keel
PG_MAX_CONN=300   # tests run many connection pools in parallel

# The newest installed server (a removed package may leave /etc/postgresql behind: look at binaries).
pg_version() {
  local b
  for b in /usr/lib/postgresql/*/bin/postgres; do
    [ -x "$b" ] && basename "$(dirname "$(dirname "$b")")"
  done | sort -V | tail -n 1
}
pg_ctl() { pg_ctlcluster --skip-systemctl-redirect "$(pg_version)" main "$@"; }
pg_superuser() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 "$@"; }

postgres_log() { printf '/var/log/postgresql/postgresql-%s-main.log\n' "$(pg_version)"; }
postgres_note() { printf 'PostgreSQL %s' "$(pg_version)"; }
postgres_running() { pg_lsclusters -h 2>/dev/null | awk '$2 == "main" && $4 ~ /online/' | grep -q .; }

# Answers as the keel user over TCP, and with enough connections configured.
postgres_answers() {
  local n
  n="$(PGPASSWORD="$PG_PASS" PGCONNECT_TIMEOUT=3 psql -X -h 127.0.0.1 -p "$postgres_port" \
        -U "$PG_USER" -d "$PG_DB" -tAc 'SELECT 1, current_setting($$max_connections$$)' 2>/dev/null)" || return 1
  [ "${n%%|*}" = 1 ] && [ "${n##*|}" -ge "$PG_MAX_CONN" ]
}

postgres_start() {
  if [ -z "$(pg_version)" ]; then apt_install postgresql; fi
  local v; v="$(pg_version)"
  # The package makes cluster "main"; recreate it if someone dropped it.
  [ -f "/etc/postgresql/$v/main/postgresql.conf" ] || pg_createcluster "$v" main >/dev/null

  # Our settings in conf.d (Debian's postgresql.conf includes it); loopback only, modest memory.
  local conf="/etc/postgresql/$v/main/conf.d/keel.conf" want
  want="# Written by scripts/stack.
listen_addresses = 'localhost'
port = $postgres_port
max_connections = $PG_MAX_CONN
shared_buffers = 256MB
"
  if [ "$(cat "$conf" 2>/dev/null)" != "$want" ]; then
    mkdir -p "$(dirname "$conf")"; printf '%s' "$want" >"$conf"
    chown postgres:postgres "$conf"
  fi
  postgres_running || pg_ctl start
  # max_connections only changes on restart: restart a cluster that runs with fewer.
  if [ "$(pg_superuser -d postgres -tAc 'SHOW max_connections')" -lt "$PG_MAX_CONN" ]; then
    pg_ctl restart
  fi

  # Role and database, idempotently. SUPERUSER: tests create and drop databases.
  pg_superuser -d postgres <<SQL
SELECT format('CREATE ROLE %I', '$PG_USER')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER') \gexec
ALTER ROLE $PG_USER WITH LOGIN PASSWORD '$PG_PASS' CREATEDB SUPERUSER;
SELECT format('CREATE DATABASE %I OWNER %I', '$PG_DB', '$PG_USER')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_DB') \gexec
SQL
}

postgres_stop() {
  [ -n "$(pg_version)" ] || return 0
  if postgres_running; then pg_ctl stop; fi   # pg_ctl waits for the shutdown
}
