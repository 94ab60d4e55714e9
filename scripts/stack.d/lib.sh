# shellcheck shell=bash
# Shared helpers for scripts/stack. Sourced, not run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK="$ROOT/.stack"
CACHE="$STACK/cache"   # downloads (Maven jars and zips), kept between runs
DATA="$STACK/data"     # server data, configs, logs and pid files
# Seconds each server gets to answer once launched (generous: CI may compile meanwhile on 2 cores).
DEADLINE="${STACK_DEADLINE:-180}"

say() { printf '%s\n' "$*"; }
die() { printf 'stack: %s\n' "$*" >&2; exit 1; }

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# apt-get update runs at most once per invocation, and only when something must be installed.
# A flag file, not a variable: servers start in subshells. ($$ is the top shell's pid there too.)
APT_FLAG="${TMPDIR:-/tmp}/stack-apt-updated.$$"
trap 'rm -f "$APT_FLAG"' EXIT
apt_install() {
  if [ ! -e "$APT_FLAG" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
    : >"$APT_FLAG"
  fi
  local out; out="$(mktemp)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$@" >"$out" 2>&1; then
    tail -n 20 "$out" >&2; rm -f "$out"; return 1
  fi
  rm -f "$out"
}

# need CMD PACKAGE: install PACKAGE when CMD is missing.
need() { command -v "$1" >/dev/null 2>&1 || apt_install "$2"; }

# java_home MIN: a JDK with major version >= MIN, preferring the lowest such
# (Kafka and ES 8 are happy on 17; newer servers may need 21+).
java_home() {
  local min="$1" best="" best_v=999 d v
  for d in /usr/lib/jvm/*/; do
    d="${d%/}"
    [ -x "$d/bin/java" ] && [ ! -L "$d" ] || continue
    v="$("$d/bin/java" -XshowSettings:properties -version 2>&1 \
          | awk -F'= ' '/java.specification.version/ { print $2 }')"
    v="${v#1.}"
    [[ "$v" =~ ^[0-9]+$ ]] || continue
    if [ "$v" -ge "$min" ] && [ "$v" -lt "$best_v" ]; then best="$d"; best_v="$v"; fi
  done
  if [ -z "$best" ] && [ "$min" -le 17 ]; then
    apt_install openjdk-17-jre-headless
    best="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
  fi
  [ -n "$best" ] || die "no JDK >= $min under /usr/lib/jvm"
  printf '%s\n' "$best"
}

# mvn_quiet ARGS...: Maven in batch mode; its output goes to a file shown only on failure.
# Maven's own cache (~/.m2) is used too, so a fresh clone on the same machine fetches nothing.
mvn_quiet() {
  need mvn maven
  local out; out="$(mktemp)"
  if ! mvn -B -ntp "$@" >"$out" 2>&1; then
    grep -E 'ERROR|BUILD' "$out" | head -20 >&2; rm -f "$out"; return 1
  fi
  rm -f "$out"
}

# pid_of FILE PATTERN: the pid in FILE if that process is alive and its command line
# matches PATTERN (a recycled pid must never be mistaken for our server).
pid_of() {
  local pid
  [ -s "$1" ] || return 1
  pid="$(tr -dc '0-9' <"$1")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2" || return 1
  printf '%s\n' "$pid"
}

# stop_pid FILE PATTERN NAME: SIGTERM, wait up to 60 s for exit, then SIGKILL.
stop_pid() {
  local pid i
  if ! pid="$(pid_of "$1" "$2")"; then rm -f "$1"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 600); do
    [ -d "/proc/$pid" ] || break
    sleep 0.1
  done
  if [ -d "/proc/$pid" ]; then
    say "$3: did not stop in 60s, killing $pid" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while [ -d "/proc/$pid" ]; do sleep 0.1; done
  fi
  rm -f "$1"
}

# service_dir USER NAME: a folder for a server that runs as USER. Normally $DATA/NAME; but a
# clone under a private home (e.g. /root, mode 700) is out of USER's reach, so then the files
# live under /var/lib/keel-stack/<hash of the clone's path> and $DATA/NAME links there.
service_dir() {
  local user="$1" name="$2" alt
  mkdir -p "$DATA"
  if [ -L "$DATA/$name" ]; then readlink -f "$DATA/$name"; return; fi
  if runuser -u "$user" -- test -x "$DATA"; then
    mkdir -p "$DATA/$name"; printf '%s\n' "$DATA/$name"; return
  fi
  alt="/var/lib/keel-stack/$(printf '%s' "$ROOT" | md5sum | cut -c1-12)/$name"
  mkdir -p "$alt"
  rm -rf "${DATA:?}/$name"
  ln -s "$alt" "$DATA/$name"
  printf '%s\n' "$alt"
}

# ensure_user NAME: a system user without login, for servers that refuse to run as root.
ensure_user() {
  id -u "$1" >/dev/null 2>&1 || useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$1"
}

# tail_log NAME FILE: show where a failed server logs, and its last lines.
tail_log() {
  say "  log: $2" >&2
  [ -f "$2" ] && tail -n 30 "$2" | sed 's/^/    /' >&2 || say "    (no such file)" >&2
}
