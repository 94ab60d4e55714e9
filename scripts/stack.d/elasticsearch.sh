# shellcheck shell=bash
# Elasticsearch from Maven Central's integ-test-zip: the only ES distribution a registry here
# serves. It holds the server core, transport, x-pack-core/security and apm modules only: no
# painless, no _reindex, no analysis-common. Newest there: 8.19.21 (Central's listing of this
# artifact ends at 8.19.x; 9.x zips are not served). ES refuses root: it runs as keel-es.

elasticsearch_port=9200
ES_VERSION=8.19.21
ES_JAVA_MIN=17
ES_USER=keel-es
ES_ZIP="$CACHE/elasticsearch-$ES_VERSION.zip"

es_dir() { readlink -f "$DATA/elasticsearch" 2>/dev/null || printf '%s\n' "$DATA/elasticsearch"; }
# Errors before logging is set up (Java, settings) are in the launcher's output.
elasticsearch_log() {
  if [ -s "$(es_dir)/logs/keel.log" ]; then echo "$(es_dir)/logs/keel.log"
  else echo "$(es_dir)/logs/startup.out"; fi
}
elasticsearch_note() { printf 'Elasticsearch %s' "$ES_VERSION"; }
# The server, or the launcher that is still starting it (ES writes its pid file once it is up).
elasticsearch_running() {
  pid_of "$(es_dir)/es.pid" org.elasticsearch >/dev/null ||
    pid_of "$(es_dir)/launcher.pid" 'bin/elasticsearch -d' >/dev/null
}

elasticsearch_answers() {
  curl -fsS -m 3 "http://127.0.0.1:$elasticsearch_port/_cluster/health" 2>/dev/null \
    | grep -Eq '"status":"(green|yellow)"'
}

elasticsearch_start() {
  # Alive but not answering yet (still booting, or a previous `up` gave up on it): just wait.
  if elasticsearch_running; then return 0; fi
  need java openjdk-17-jre-headless; need unzip unzip; need curl curl
  if [ ! -f "$ES_ZIP" ]; then
    mkdir -p "$CACHE"
    # Some of these POMs say <packaging>pom</packaging>: ask for the zip type explicitly.
    mvn_quiet -q dependency:copy \
      -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" \
      -DoutputDirectory="$CACHE"
  fi
  ensure_user "$ES_USER"
  local dir; dir="$(service_dir "$ES_USER" elasticsearch)"
  local home="$dir/home"

  # Unpack once per version; the distribution stays apart from config, data and logs.
  if [ "$(cat "$home/.version" 2>/dev/null)" != "$ES_VERSION" ]; then
    rm -rf "$home" "$dir/unpack"
    unzip -q "$ES_ZIP" -d "$dir/unpack"
    mv "$dir/unpack"/elasticsearch-* "$home"; rmdir "$dir/unpack"
    chmod +x "$home"/bin/*
    echo "$ES_VERSION" >"$home/.version"
  fi

  mkdir -p "$dir/config/jvm.options.d" "$dir/data" "$dir/logs" "$dir/tmp"
  [ -f "$dir/config/jvm.options" ] || cp -r "$home/config/." "$dir/config/"
  {
    echo "# Written by scripts/stack: one node on loopback (no bootstrap checks there)."
    echo "cluster.name: keel"
    echo "node.name: keel-1"
    echo "network.host: 127.0.0.1"
    echo "http.port: $elasticsearch_port"
    echo "discovery.type: single-node"
    echo "path.data: $dir/data"
    echo "path.logs: $dir/logs"
    echo "# Small disks must not turn indices read-only in tests."
    echo "cluster.routing.allocation.disk.threshold_enabled: false"
    echo "# Tests may delete indices by wildcard."
    echo "action.destructive_requires_name: false"
    # Only a distribution with the security module knows this setting (an unknown one is fatal).
    if [ -d "$home/modules/x-pack-security" ]; then echo "xpack.security.enabled: false"; fi
  } >"$dir/config/elasticsearch.yml"
  printf -- '-Xms512m\n-Xmx512m\n' >"$dir/config/jvm.options.d/heap.options"
  chown -R "$ES_USER:$ES_USER" "$dir"

  # -d daemonizes once the node is up; run that in the background too so other servers start meanwhile.
  local jhome; jhome="$(java_home "$ES_JAVA_MIN")"
  ulimit -n 65535 2>/dev/null || true   # ES warns below 65535 open files
  setsid nohup runuser -u "$ES_USER" -- env ES_JAVA_HOME="$jhome" ES_PATH_CONF="$dir/config" ES_TMPDIR="$dir/tmp" \
    "$home/bin/elasticsearch" -d -p "$dir/es.pid" \
    >"$dir/logs/startup.out" 2>&1 </dev/null &
  echo $! >"$dir/launcher.pid"
}

elasticsearch_stop() {
  stop_pid "$(es_dir)/launcher.pid" 'bin/elasticsearch -d' elasticsearch
  stop_pid "$(es_dir)/es.pid" org.elasticsearch elasticsearch
}
