# shellcheck shell=bash
# Apache Kafka in KRaft mode (one node is broker and controller), from Maven Central's jars:
# there is no Debian package, and the jars plus a log4j binding are all a broker needs.

kafka_port=9092
KAFKA_VERSION=4.4.0
LOG4J_VERSION=2.26.1
SLF4J_VERSION=2.0.17   # Kafka's POM still names slf4j-api 1.7.36, which log4j's slf4j2 binding cannot serve
KAFKA_JAVA_MIN=17

KAFKA_LIB="$CACHE/kafka-$KAFKA_VERSION/lib"
KAFKA_DIR="$DATA/kafka"

# Before log4j is up (bad Java, bad classpath) only the JVM's stdout has the story.
kafka_log() {
  if [ -s "$KAFKA_DIR/logs/server.log" ]; then echo "$KAFKA_DIR/logs/server.log"
  else echo "$KAFKA_DIR/logs/kafka.out"; fi
}
kafka_note() { printf 'Apache Kafka %s' "$KAFKA_VERSION"; }
kafka_running() { pid_of "$KAFKA_DIR/kafka.pid" kafka.Kafka >/dev/null; }

# A real Metadata request (v4, no topics) over bash's /dev/tcp, so that a warm `up` needs no JVM.
# The broker enables client requests only once it is registered and unfenced; the answer must
# carry our correlation id and list at least one broker.
kafka_answers() {
  local bytes
  bytes="$(timeout 3 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/'"$kafka_port"' || exit 1
    # size 20 | api_key 3 | version 4 | correlation 42 | client_id "stack" | topics [] | auto_create false
    printf "\x00\x00\x00\x14\x00\x03\x00\x04\x00\x00\x00\x2a\x00\x05stack\x00\x00\x00\x00\x00" >&3
    head -c 16 <&3 | od -An -tu1' 2>/dev/null)" || return 1
  # response: size(4) correlation(4) throttle_ms(4) broker_count(4)
  # shellcheck disable=SC2086 # split od's numbers into $1..$16
  set -- $bytes
  [ "$#" -eq 16 ] && [ "$5$6$7$8" = "00042" ] && [ $(( ${13} + ${14} + ${15} + ${16} )) -gt 0 ]
}

# The jars: a throwaway pom, and Maven copies kafka_2.13 with its runtime dependencies.
# Kafka's POM names no logging binding, so log4j's slf4j2 binding and core come along, with
# slf4j-api 2 (a direct dependency wins over Kafka's 1.7; the 1.x API is compatible).
kafka_fetch() {
  local dir="$CACHE/kafka-$KAFKA_VERSION" pom
  pom="<project xmlns=\"http://maven.apache.org/POM/4.0.0\">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.stack</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>"
  # Fetched already with this very pom: nothing to do.
  [ -f "$KAFKA_LIB/.complete" ] && [ "$(cat "$dir/pom.xml" 2>/dev/null)" = "$pom" ] && return 0
  rm -rf "$KAFKA_LIB"; mkdir -p "$dir"
  printf '%s\n' "$pom" >"$dir/pom.xml"
  (cd "$dir" && mvn_quiet -q dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=lib)
  # Only log4j may bind slf4j: drop any other binding a dependency brings.
  rm -f "$KAFKA_LIB"/slf4j-reload4j-*.jar "$KAFKA_LIB"/slf4j-log4j12-*.jar "$KAFKA_LIB"/logback-classic-*.jar
  touch "$KAFKA_LIB/.complete"
}

kafka_config() {
  mkdir -p "$KAFKA_DIR/logs" "$KAFKA_DIR/kraft"
  cat >"$KAFKA_DIR/server.properties" <<PROPS
# Written by scripts/stack: one node, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:9093
listeners=PLAINTEXT://127.0.0.1:$kafka_port,CONTROLLER://127.0.0.1:9093
advertised.listeners=PLAINTEXT://127.0.0.1:$kafka_port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DIR/kraft
auto.create.topics.enable=true
num.partitions=3
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests start consumer groups often: no rebalance delay, fewer internal partitions to load.
group.initial.rebalance.delay.ms=0
offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10
PROPS
  cat >"$KAFKA_DIR/log4j2.properties" <<'PROPS'
# Written by scripts/stack: Kafka logs to logs/server.log (rolled at 50 MB, 3 kept).
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.filePattern = ${sys:kafka.logs.dir}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = WARN
PROPS
}

kafka_start() {
  # Alive but not answering yet (still booting, or a previous `up` gave up on it): just wait.
  if kafka_running; then return 0; fi
  need java openjdk-17-jre-headless
  kafka_fetch
  kafka_config
  local java; java="$(java_home "$KAFKA_JAVA_MIN")/bin/java"
  local cp="$KAFKA_LIB/*" log4j="-Dlog4j2.configurationFile=$KAFKA_DIR/log4j2.properties"

  # Format the storage once (a new cluster id), then the broker keeps it.
  if [ ! -f "$KAFKA_DIR/kraft/meta.properties" ]; then
    local id
    # A Kafka cluster id is 16 random bytes in URL-safe base64; one starting with '-' would read as a flag.
    id="-"; while [[ "$id" == -* ]]; do
      id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)"
    done
    "$java" "$log4j" -Dkafka.logs.dir="$KAFKA_DIR/logs" -cp "$cp" kafka.tools.StorageTool \
      format --standalone --ignore-formatted -t "$id" -c "$KAFKA_DIR/server.properties" \
      >"$KAFKA_DIR/logs/format.out" 2>&1 || { cat "$KAFKA_DIR/logs/format.out" >&2; return 1; }
  fi

  # In the background, detached from this shell; stdout keeps what happens before log4j starts.
  setsid nohup "$java" -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true "$log4j" -Dkafka.logs.dir="$KAFKA_DIR/logs" \
    -cp "$cp" kafka.Kafka "$KAFKA_DIR/server.properties" \
    >"$KAFKA_DIR/logs/kafka.out" 2>&1 </dev/null &
  echo $! >"$KAFKA_DIR/kafka.pid"
}

kafka_stop() { stop_pid "$KAFKA_DIR/kafka.pid" kafka.Kafka kafka; }
