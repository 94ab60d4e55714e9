# shellcheck shell=bash
# ClickHouse from Debian's package (18.16: old; keep SQL to what both it and current releases
# understand). It runs as the package's clickhouse user with a config of ours: the package's
# config.xml with data, logs and caches moved and trimmed.

clickhouse_port=8123
CH_USER=clickhouse

ch_dir() { readlink -f "$DATA/clickhouse" 2>/dev/null || printf '%s\n' "$DATA/clickhouse"; }
clickhouse_log() { printf '%s\n' "$(ch_dir)/logs/clickhouse-server.err.log"; }
clickhouse_note() { printf 'ClickHouse %s' "$(dpkg-query -W -f='${Version}' clickhouse-server 2>/dev/null | cut -d+ -f1)"; }
clickhouse_running() { pid_of "$(ch_dir)/clickhouse.pid" clickhouse-server >/dev/null; }

clickhouse_answers() {
  [ "$(curl -fsS -m 3 "http://127.0.0.1:$clickhouse_port/?query=SELECT%201" 2>/dev/null)" = 1 ]
}

clickhouse_start() {
  # Alive but not answering yet (still booting, or a previous `up` gave up on it): just wait.
  if clickhouse_running; then return 0; fi
  need curl curl
  [ -x /usr/sbin/clickhouse-server ] || apt_install clickhouse-server clickhouse-client
  ensure_user "$CH_USER"
  local dir; dir="$(service_dir "$CH_USER" clickhouse)"
  mkdir -p "$dir/config" "$dir/data" "$dir/logs"

  # From the package's config: our paths; loopback IPv4 only; caches of 256 MiB instead of
  # 8 GiB / 5 GiB; logs of 100 MB x 3. (18.16 has no server-wide memory cap; users.xml caps
  # each query at 1 GB.)
  sed -e "s#/var/lib/clickhouse/#$dir/data/#g" \
      -e "s#/var/log/clickhouse-server/#$dir/logs/#g" \
      -e '\#<listen_host>::1</listen_host>#d' \
      -e 's#<uncompressed_cache_size>[0-9]*<#<uncompressed_cache_size>268435456<#' \
      -e 's#<mark_cache_size>[0-9]*<#<mark_cache_size>268435456<#' \
      -e 's#<size>1000M</size>#<size>100M</size>#' \
      -e 's#<count>10</count>#<count>3</count>#' \
      -e "s#<http_port>[0-9]*<#<http_port>$clickhouse_port<#" \
      /etc/clickhouse-server/config.xml >"$dir/config/config.xml"
  sed -e 's#<max_memory_usage>[0-9]*<#<max_memory_usage>1000000000<#' \
      /etc/clickhouse-server/users.xml >"$dir/config/users.xml"
  chown -R "$CH_USER:$CH_USER" "$dir"

  # --daemon forks once the config is read; the server writes its own pid file.
  runuser -u "$CH_USER" -- /usr/sbin/clickhouse-server --daemon \
    --config-file="$dir/config/config.xml" --pid-file="$dir/clickhouse.pid" \
    >"$dir/logs/startup.out" 2>&1 </dev/null
}

clickhouse_stop() { stop_pid "$(ch_dir)/clickhouse.pid" clickhouse-server clickhouse; }
