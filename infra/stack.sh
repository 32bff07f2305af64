#!/usr/bin/env bash
# Native (Docker-free) dev/test stack for the MASH: Kafka in KRaft mode (one combined broker+controller
# node, or MASH_KAFKA_BROKERS=3 of them forming a three-voter quorum) and mongo-java-server (MongoDB wire
# protocol on an H2 file), all bound to 127.0.0.1.
#
#   infra/stack.sh provision        fetch the Kafka and mongo-java-server jars (Maven); start nothing
#   infra/stack.sh up               provision if needed, start everything, wait until ready, print exports
#   infra/stack.sh down [--purge]   stop what `up` started (by pid file); --purge also wipes data
#   infra/stack.sh stop <name>...   stop components by pid file (SIGTERM), keeping their data
#   infra/stack.sh start <name>...  start stopped components again and wait until they are ready
#   infra/stack.sh kill <name>...   SIGKILL components (no shutdown code runs), keeping their data
#   infra/stack.sh status           running/stopped per component; exit 0 if all run, else 3
#   infra/stack.sh env              print the export lines only
#   infra/stack.sh acls <ns>        grant the ACLs of infra/kafka/acls.txt on namespace <ns> (Kafka running)
#   infra/stack.sh security <spec>  create the users and ACLs of a spec file (infra/kafka/Security.java's
#                                   format) as admin: demo/kafka_access.py writes one for a region's hubs
#
# Names: `mongo`; `kafka` (every Kafka node); with several brokers also `kafka-1`, `kafka-2`, `kafka-3`.
#
# Cluster shape (MASH_KAFKA_BROKERS=3): node n listens on MASH_KAFKA_PORT + 3(n-1) (clients),
# MASH_KAFKA_CONTROLLER_PORT + 3(n-1) (controller) and MASH_KAFKA_TLS_PORT + 3(n-1) (agencies), with its
# own data dir, pid file and log (<cache>/run/kafka-<n>/, run/kafka-<n>.pid, run/logs/kafka-<n>.log);
# every node is secured as the single one is, with the same users, ACLs and certificate. Internal topics
# and new topics get replication factor 3 and min.insync.replicas=2, and `env` prints
# MASH_KAFKA_REPLICATION_FACTOR=3 / MASH_KAFKA_MIN_INSYNC_REPLICAS=2 for the services. The shape is
# recorded with the data (run/kafka-brokers): later commands without MASH_KAFKA_BROKERS use it, and asking
# for another shape on existing data fails until `down --purge`.
#
# Kafka is secured: clients authenticate with SASL/SCRAM-SHA-512 on 127.0.0.1:MASH_KAFKA_PORT, partner
# agencies may also use SASL_SSL on MASH_KAFKA_TLS_PORT (a CA this script makes), and StandardAuthorizer
# with allow.everyone.if.no.acl.found=false lets each principal (a service, an agency, the police feed)
# do only what infra/kafka/acls.txt gives it; User:admin is the only super user. The controller listener
# (loopback) uses SASL PLAIN as admin, so no unauthenticated principal needs rights anywhere. Every
# principal's password is generated once into <cache>/run/kafka-credentials.env (git-ignored; `up` and
# `env` print its path as MASH_KAFKA_CREDENTIALS), where demo/kafka_access.py finds each process's own.
# MASH_KAFKA_INSECURE=1 starts a plaintext broker without authentication instead (development only); a
# data directory formatted before security was added keeps running without it until `down --purge`.
#
# Progress goes to stderr; `up` and `env` print only `export NAME=value` lines on stdout, so
#   eval "$(bash infra/stack.sh up)"
# works. Environment: MASH_CACHE_DIR (default <repo>/.cache), MASH_JARS_DIR (where the jars are fetched
# to; default MASH_CACHE_DIR, so a second stack can share the first one's), MASH_KAFKA_BROKERS (1, or the
# recorded shape), MASH_KAFKA_PORT (9092), MASH_KAFKA_CONTROLLER_PORT (9093), MASH_KAFKA_TLS_PORT
# (MASH_KAFKA_PORT + 2), MASH_MONGO_PORT (27017), MASH_KAFKA_HEAP_MB (768 for one broker, 384 each for a
# cluster), MASH_STACK_TIMEOUT (120 s), MASH_KAFKA_INSECURE (0).
set -euo pipefail

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$INFRA_DIR/.." && pwd)"
CACHE_DIR="${MASH_CACHE_DIR:-$REPO_DIR/.cache}"
JARS_DIR="${MASH_JARS_DIR:-$CACHE_DIR}"
RUN_DIR="$CACHE_DIR/run"
LOG_DIR="$RUN_DIR/logs"

KAFKA_PORT="${MASH_KAFKA_PORT:-9092}"
KAFKA_CTL_PORT="${MASH_KAFKA_CONTROLLER_PORT:-9093}"
MONGO_PORT="${MASH_MONGO_PORT:-27017}"
TIMEOUT="${MASH_STACK_TIMEOUT:-120}"
HOST=127.0.0.1
KAFKA_TLS_PORT="${MASH_KAFKA_TLS_PORT:-$((${KAFKA_PORT//[^0-9]/0} + 2))}"
INSECURE="${MASH_KAFKA_INSECURE:-0}"
REQUESTED_BROKERS="${MASH_KAFKA_BROKERS:-}"

KAFKA_POM="$INFRA_DIR/kafka/pom.xml"
KAFKA_LIBS="$JARS_DIR/kafka/libs"
KAFKA_STAMP="$JARS_DIR/kafka/libs.pom.sha256"
KAFKA_LOG4J="$RUN_DIR/log4j2.xml"
KAFKA_MODE_FILE="$RUN_DIR/kafka-security.mode"       # what the data dir was formatted for: sasl | plaintext
KAFKA_SHAPE_FILE="$RUN_DIR/kafka-brokers"            # how many nodes the data dirs were formatted for
KAFKA_CLUSTER_ID_FILE="$RUN_DIR/kafka-cluster.id"
CREDENTIALS="$RUN_DIR/kafka-credentials.env"
ADMIN_PASSWORD_FILE="$RUN_DIR/security/admin.password"
TLS_DIR="$RUN_DIR/tls"
SECURITY_SOURCE="$INFRA_DIR/kafka/Security.java"
SECURITY_CLASSES="$JARS_DIR/kafka/security-classes"
ACL_TABLE="$INFRA_DIR/kafka/acls.txt"
AGENCIES_FILE="$REPO_DIR/services/enquiry/src/mash_enquiry/config/agencies.yaml"
SERVICES="intake decision enquiry notify insight"

MONGO_POM="$INFRA_DIR/mongo/pom.xml"
MONGO_LAUNCHER="$INFRA_DIR/mongo/Launcher.java"
MONGO_LIBS="$JARS_DIR/mongo/libs"
MONGO_STAMP="$JARS_DIR/mongo/libs.pom.sha256"
MONGO_DATA="$RUN_DIR/mongo-data"
MONGO_FILE="$MONGO_DATA/mongo.mv"
MONGO_PID="$RUN_DIR/mongo.pid"
MONGO_LOG="$LOG_DIR/mongo.log"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH ($2)"; }

# Every JVM this script starts (brokers, mongo-java-server, Kafka's tools) runs beside the hub and its tests on a
# developer's or CI's two cores, so it is tuned for little CPU, not peak throughput: C1 only (TieredStopAtLevel=1;
# no C2 compilations, a broker's biggest saving) and the serial collector (no GC threads competing for the two
# cores; the heaps are small). Measured (docs/testing.md): a broker carrying the same four test modules used 8.0
# CPU-s instead of 18.6 (C1 only: 11.5; serial only: 14.4). MASH_JVM_OPTS replaces them (a space-separated list).
read -r -a JVM_FLAGS <<<"${MASH_JVM_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC}"

for p in "$KAFKA_PORT" "$KAFKA_CTL_PORT" "$KAFKA_TLS_PORT" "$MONGO_PORT" "$TIMEOUT"; do
  [[ "$p" =~ ^[0-9]+$ ]] || die "ports/timeout must be integers, got '$p'"
done

# ---------------------------------------------------------------- shape: one node, or a cluster

[[ -z "$REQUESTED_BROKERS" || "$REQUESTED_BROKERS" =~ ^[1-9]$ ]] \
  || die "MASH_KAFKA_BROKERS must be a number of nodes from 1 to 9, got '$REQUESTED_BROKERS'"

# The shape the data dirs were formatted for (a data dir from before clusters existed is one node).
recorded_brokers() {
  if [[ -f "$KAFKA_SHAPE_FILE" ]]; then
    tr -dc '0-9' <"$KAFKA_SHAPE_FILE"
  elif [[ -f "$RUN_DIR/kafka-data/meta.properties" ]]; then
    echo 1
  fi
}
RECORDED_BROKERS="$(recorded_brokers)"
BROKERS="${RECORDED_BROKERS:-${REQUESTED_BROKERS:-1}}"
# Three copies of every partition at most, and an acknowledged write on two of them once there are three:
# one node may fail (or restart) without losing an acknowledged record or refusing a write.
REPLICATION=$((BROKERS < 3 ? BROKERS : 3))
MIN_ISR=$((REPLICATION >= 3 ? 2 : 1))
HEAP_MB="${MASH_KAFKA_HEAP_MB:-$((BROKERS == 1 ? 768 : 384))}"
[[ "$HEAP_MB" =~ ^[0-9]+$ ]] || die "MASH_KAFKA_HEAP_MB must be a number of megabytes, got '$HEAP_MB'"
NODES="$(seq 1 "$BROKERS" | tr '\n' ' ')"

# A start that asks for another shape than the data has would mix two quorums: refuse it.
check_shape() {
  if [[ -n "$RECORDED_BROKERS" && -n "$REQUESTED_BROKERS" && "$RECORDED_BROKERS" != "$REQUESTED_BROKERS" ]]; then
    die "$RUN_DIR holds Kafka data for $RECORDED_BROKERS node(s), not MASH_KAFKA_BROKERS=$REQUESTED_BROKERS:" \
      "\`infra/stack.sh down --purge\` first, or use another MASH_CACHE_DIR"
  fi
}

# Node n's ports are the configured ones plus 3(n-1), so the defaults interleave without overlapping
# (9092/9093/9094 for node 1, 9095/9096/9097 for node 2, ...). One node keeps the files it always had.
node_port() { echo $((KAFKA_PORT + 3 * ($1 - 1))); }
node_ctl_port() { echo $((KAFKA_CTL_PORT + 3 * ($1 - 1))); }
node_tls_port() { echo $((KAFKA_TLS_PORT + 3 * ($1 - 1))); }
node_name() { if ((BROKERS == 1)); then echo kafka; else echo "kafka-$1"; fi; }
node_dir() { if ((BROKERS == 1)); then echo "$RUN_DIR"; else echo "$RUN_DIR/kafka-$1"; fi; }
node_data() { if ((BROKERS == 1)); then echo "$RUN_DIR/kafka-data"; else echo "$RUN_DIR/kafka-$1/data"; fi; }
node_props() { echo "$(node_dir "$1")/server.properties"; }
node_pidfile() { if ((BROKERS == 1)); then echo "$RUN_DIR/kafka.pid"; else echo "$RUN_DIR/kafka-$1.pid"; fi; }
node_log() { if ((BROKERS == 1)); then echo "$LOG_DIR/kafka.log"; else echo "$LOG_DIR/kafka-$1.log"; fi; }
# The server's command line ends with its own properties file, which is unique per cache dir and node.
node_marker() { echo "kafka.Kafka $(node_props "$1")"; }

bootstrap_list() {
  local n out=""
  for n in $NODES; do out="$out${out:+,}$HOST:$(node_port "$n")"; done
  printf '%s\n' "$out"
}
tls_bootstrap_list() {
  local n out=""
  for n in $NODES; do out="$out${out:+,}$HOST:$(node_tls_port "$n")"; done
  printf '%s\n' "$out"
}
quorum_voters() {
  local n out=""
  for n in $NODES; do out="$out${out:+,}$n@$HOST:$(node_ctl_port "$n")"; done
  printf '%s\n' "$out"
}

check_ports_distinct() {
  local n ports=("$MONGO_PORT") twice
  for n in $NODES; do ports+=("$(node_port "$n")" "$(node_ctl_port "$n")" "$(node_tls_port "$n")"); done
  twice="$(printf '%s\n' "${ports[@]}" | sort | uniq -d | tr '\n' ' ')"
  [[ -z "$twice" ]] || die "ports used twice: $twice(node n uses MASH_KAFKA_PORT, _CONTROLLER_PORT and _TLS_PORT + 3(n-1))"
}
check_ports_distinct

# One stack operation at a time per cache dir (two concurrent `up`s must not both fetch/start).
# fd 9 is closed in every process we launch so a running server never holds the lock.
lock() {
  mkdir -p "$CACHE_DIR"
  exec 9>"$CACHE_DIR/stack.lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w "$((TIMEOUT + 60))" 9 || die "another infra/stack.sh holds $CACHE_DIR/stack.lock"
  fi
}

sha_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

# ---------------------------------------------------------------- process bookkeeping

# Prints the pid recorded in $1 if that process is alive and its command line contains $2.
# A stale pid file (process gone, or pid reused by something else) is removed.
live_pid() {
  local file="$1" marker="$2" pid
  [[ -f "$file" ]] || return 1
  pid="$(tr -dc '0-9' <"$file")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
     && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$file"
  return 1
}

node_pid() { live_pid "$(node_pidfile "$1")" "$(node_marker "$1")"; }
# The data file's path is on the server's command line and is unique per cache dir.
mongo_pid() { live_pid "$MONGO_PID" "$MONGO_FILE"; }

# launch PIDFILE LOGFILE CMD...: start CMD in its own session, detached from this shell, stdin
# from /dev/null, stdout+stderr appended to LOGFILE. The wrapper writes its own pid and then
# execs CMD, so the pid file names the server process itself.
launch() {
  local pidfile="$1" logfile="$2"
  shift 2
  rm -f "$pidfile"
  setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" \
    </dev/null >>"$logfile" 2>&1 9>&- &
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s "$pidfile" ]] && return 0
    sleep 0.1
  done
  die "process did not record its pid in $pidfile"
}

# stop NAME PIDFILE MARKER: TERM, wait up to 20 s, then KILL.
stop() {
  local name="$1" file="$2" marker="$3" pid i
  if ! pid="$(live_pid "$file" "$marker")"; then
    log "$name: not running"
    rm -f "$file"
    return 0
  fi
  log "$name: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name: still alive after 20 s, sending KILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  kill -0 "$pid" 2>/dev/null && die "$name: pid $pid survived KILL"
  rm -f "$file"
  log "$name: stopped"
}

# ---------------------------------------------------------------- provisioning

# fetch_jars NAME POM LIBS STAMP MARKER_GLOB: copy POM's runtime dependencies into LIBS with Maven,
# unless LIBS holds MARKER_GLOB and STAMP records the POM's current sha256.
fetch_jars() {
  local name="$1" pom="$2" libs="$3" stamp="$4" marker="$5" want
  want="$(sha_of "$pom")"
  if compgen -G "$libs/$marker" >/dev/null && [[ -f "$stamp" ]] && [[ "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  need mvn "Maven 3 is needed to fetch the $name jars"
  need java "Java 17+ is needed to run $name"
  log "$name: fetching jars from Maven ($pom) -> $libs"
  local dir
  dir="$(dirname "$libs")"
  mkdir -p "$dir"
  local tmp="$libs.new.$$" t0=$SECONDS
  rm -rf "$tmp"
  if ! mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$tmp" >"$dir/mvn.log" 2>&1 9>&-; then
    tail -n 30 "$dir/mvn.log" >&2 || true
    rm -rf "$tmp"
    die "$name: Maven dependency fetch failed (log: $dir/mvn.log)"
  fi
  compgen -G "$tmp/$marker" >/dev/null || die "$name: no $marker after fetch"
  rm -rf "$libs"
  mv "$tmp" "$libs"
  printf '%s\n' "$want" >"$stamp"
  log "$name: $(ls "$libs" | wc -l) jars in $((SECONDS - t0)) s"
}

provision_kafka() { fetch_jars kafka "$KAFKA_POM" "$KAFKA_LIBS" "$KAFKA_STAMP" "kafka_2.13-*.jar"; }

# Whether any Kafka node of this stack runs (its jars are then never replaced).
any_kafka_running() {
  local n
  for n in $NODES; do node_pid "$n" >/dev/null && return 0; done
  return 1
}

provision_mongo() {
  fetch_jars mongo "$MONGO_POM" "$MONGO_LIBS" "$MONGO_STAMP" "mongo-java-server-h2-backend-*.jar"
}

# ---------------------------------------------------------------- kafka

# ---------------------------------------------------------------- kafka security

# The mode the broker runs in: plaintext with MASH_KAFKA_INSECURE=1; else what its data dir was formatted
# for (a data dir from before security has no record: plaintext); a fresh one is secured.
kafka_mode() {
  if [[ "$INSECURE" == 1 ]]; then
    echo plaintext
  elif [[ -f "$(node_data 1)/meta.properties" ]]; then
    if [[ -f "$KAFKA_MODE_FILE" ]]; then cat "$KAFKA_MODE_FILE"; else echo plaintext; fi
  else
    echo sasl
  fi
}

# The agency ids of the packaged agency directory (the keys under `agencies:`).
agency_ids() {
  awk '/^agencies:/ { inside = 1; next } /^[^ #]/ { inside = 0 }
       inside && /^  [a-z][a-z0-9-]*:[[:space:]]*$/ { sub(/^  /, ""); sub(/:.*/, ""); print }' "$AGENCIES_FILE"
}

principals() {
  local agency
  printf '%s\n' admin $SERVICES police-feed
  for agency in $(agency_ids); do printf 'agency-%s\n' "$agency"; done
}

env_key() { printf 'MASH_KAFKA_PASSWORD_%s' "$(printf '%s' "$1" | tr 'a-z-' 'A-Z_')"; }

# Generate a password for every principal that has none yet; the file is kept across restarts.
ensure_credentials() {
  mkdir -p "$RUN_DIR/security"
  local principal key
  if [[ ! -f "$CREDENTIALS" ]]; then
    ( umask 077; printf '# Generated by infra/stack.sh: SCRAM-SHA-512 passwords of the local stack'"'"'s Kafka principals.\n# Local use only; never commit (it lives under the git-ignored cache). `down --purge` deletes it.\n' >"$CREDENTIALS" )
  fi
  for principal in $(principals); do
    key="$(env_key "$principal")"
    grep -q "^$key=" "$CREDENTIALS" || printf '%s=%s\n' "$key" "$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" >>"$CREDENTIALS"
  done
  chmod 600 "$CREDENTIALS"
  ( umask 077; grep "^$(env_key admin)=" "$CREDENTIALS" | cut -d= -f2- | tr -d '\n' >"$ADMIN_PASSWORD_FILE" )
}

admin_password() { cat "$ADMIN_PASSWORD_FILE"; }

# Where an agency reaches the TLS listener, and the CA to trust, beside the passwords (rewritten on start).
record_tls_listener() {
  local kept
  kept="$(grep -v '^MASH_KAFKA_TLS_BOOTSTRAP=\|^MASH_KAFKA_CA_FILE=' "$CREDENTIALS")"
  ( umask 077; printf '%s\nMASH_KAFKA_TLS_BOOTSTRAP=%s\nMASH_KAFKA_CA_FILE=%s\n' \
      "$kept" "$(tls_bootstrap_list)" "$TLS_DIR/ca.pem" >"$CREDENTIALS" )
}

# A CA of this stack's own and the brokers' certificate for 127.0.0.1 (PEM keystore: key, then chain); every
# node of a cluster presents the same one, since they all listen on the same address.
ensure_tls() {
  [[ -f "$TLS_DIR/broker-keystore.pem" && -f "$TLS_DIR/ca.pem" ]] && return 0
  need openssl "openssl makes the local CA for the agency TLS listener"
  log "kafka: making a CA and the broker's certificate in $TLS_DIR"
  mkdir -p "$TLS_DIR"
  (
    umask 077
    cd "$TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=MASH local stack CA" \
      -keyout ca.key -out ca.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$HOST" -keyout broker.key -out broker.csr 2>/dev/null
    printf 'subjectAltName=IP:%s,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$HOST" >broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile broker.ext -out broker.crt 2>/dev/null
    openssl pkcs8 -topk8 -nocrypt -in broker.key -out broker.pk8
    cat broker.pk8 broker.crt ca.pem >broker-keystore.pem
    rm -f broker.csr broker.ext broker.key
  ) || die "kafka: could not make the TLS certificates in $TLS_DIR"
  chmod 644 "$TLS_DIR/ca.pem"
}

# Compile infra/kafka/Security.java once against the broker's jars (it creates users and ACLs).
security_tool() {
  local want
  want="$(sha_of "$SECURITY_SOURCE" "$KAFKA_STAMP")"
  if [[ ! -f "$SECURITY_CLASSES/Security.class" || "$(cat "$SECURITY_CLASSES/stamp" 2>/dev/null)" != "$want" ]]; then
    need javac "a JDK (javac) compiles infra/kafka/Security.java"
    rm -rf "$SECURITY_CLASSES" && mkdir -p "$SECURITY_CLASSES"
    javac "${JVM_FLAGS[@]/#/-J}" -d "$SECURITY_CLASSES" -cp "$(kafka_classpath)" "$SECURITY_SOURCE" 9>&- \
      || die "kafka: could not compile $SECURITY_SOURCE"
    printf '%s\n' "$want" >"$SECURITY_CLASSES/stamp"
  fi
}

# acl_spec NAMESPACE: infra/kafka/acls.txt as `allow` lines for NAMESPACE ("" for none), every agency.
acl_spec() {
  local prefix="${1:+$1.}"
  awk -v prefix="$prefix" -v agencies="$(agency_ids | tr '\n' ' ')" '
    { sub(/#.*/, "") } NF == 5 {
      n = split(index($0, "{agency}") ? agencies : "-", list, " ")
      for (i = 1; i <= n; i++) {
        line = $0; gsub(/\{ns\}/, prefix, line); gsub(/\{agency\}/, list[i], line)
        split(line, f, " "); print "allow", f[1], f[2], f[3], f[4], f[5]
      }
    }' "$ACL_TABLE"
}

# run_security SPEC: create the users and ACLs in SPEC as admin.
run_security() {
  security_tool
  java "${JVM_FLAGS[@]}" -cp "$(kafka_classpath):$SECURITY_CLASSES" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -Dlog4j2.configurationFile="$KAFKA_LOG4J" Security "$(bootstrap_list)" admin "$ADMIN_PASSWORD_FILE" "$1" \
    >>"$LOG_DIR/kafka-security.log" 2>&1 9>&- \
    || { tail -n 20 "$LOG_DIR/kafka-security.log" >&2; die "kafka: could not create users and ACLs"; }
  tail -n 1 "$LOG_DIR/kafka-security.log" | sed 's/^/[stack] kafka: /' >&2
}

# Users for every principal (admin exists from the format) and the ACLs of the hub without a namespace;
# skipped when nothing changed since the last run (a restart keeps them: they live in the metadata log).
provision_security() {
  local spec="$RUN_DIR/security/principals.spec" principal key
  {
    for principal in $(principals); do
      [[ "$principal" == admin ]] && continue
      key="$(env_key "$principal")"
      printf 'user %s %s\n' "$principal" "$(grep "^$key=" "$CREDENTIALS" | cut -d= -f2-)"
    done
    acl_spec ""
  } >"$spec.new"
  chmod 600 "$spec.new"
  if [[ -f "$spec" ]] && cmp -s "$spec" "$spec.new" && [[ -f "$RUN_DIR/security/provisioned" ]]; then
    rm -f "$spec.new"
    return 0
  fi
  mv -f "$spec.new" "$spec"
  rm -f "$RUN_DIR/security/provisioned"
  log "kafka: creating $(grep -c '^user ' "$spec") users and the ACLs of $ACL_TABLE"
  run_security "$spec"
  touch "$RUN_DIR/security/provisioned"
}

# write_kafka_config N: node N's server.properties (and the shared log4j2.xml).
write_kafka_config() {
  local n="$1" port ctl tls data
  port="$(node_port "$n")" ctl="$(node_ctl_port "$n")" tls="$(node_tls_port "$n")" data="$(node_data "$n")"
  mkdir -p "$RUN_DIR" "$LOG_DIR" "$data"
  local listeners
  if [[ "$(kafka_mode)" == sasl ]]; then
    local admin
    admin="$(admin_password)"
    listeners="$(cat <<EOF
# SASL/SCRAM for every client (services, tools, agencies, the other brokers) and, for agencies, SASL over
# TLS with this stack's CA ($TLS_DIR/ca.pem). The controller listener is loopback-only, authenticated as
# admin (PLAIN), between the quorum's voters as from each broker to them.
listeners=CLIENTS://$HOST:$port,AGENCIES://$HOST:$tls,CONTROLLER://$HOST:$ctl
advertised.listeners=CLIENTS://$HOST:$port,AGENCIES://$HOST:$tls
controller.listener.names=CONTROLLER
inter.broker.listener.name=CLIENTS
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,CLIENTS:SASL_PLAINTEXT,AGENCIES:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$admin" user_admin="$admin";
listener.name.clients.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin";
listener.name.agencies.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.agencies.ssl.keystore.type=PEM
listener.name.agencies.ssl.keystore.location=$TLS_DIR/broker-keystore.pem
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin
EOF
)"
  else
    listeners="$(cat <<EOF
# WITHOUT authentication (MASH_KAFKA_INSECURE=1, or a data dir formatted before security): development only.
listeners=PLAINTEXT://$HOST:$port,CONTROLLER://$HOST:$ctl
advertised.listeners=PLAINTEXT://$HOST:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
EOF
)"
  fi
  local offsets=""
  if ((BROKERS > 1)); then
    # Fewer than the default 50 consumer-offset partitions: each one is loaded, replicated and caught up on
    # every node's restart, and that is most of what a restart of a cluster on two cores waits for.
    offsets="offsets.topic.num.partitions=6"
  fi
  ( umask 077; cat >"$(node_props "$n")" <<EOF
# Generated by infra/stack.sh on every start; edits are overwritten.
# Node $n of $BROKERS: combined broker and controller; the quorum's voters are every node.
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(quorum_voters)
$listeners
log.dirs=$data
num.partitions=3
auto.create.topics.enable=true
# Replication $REPLICATION, and a write acknowledged (acks=all) only once $MIN_ISR replicas have it.
default.replication.factor=$REPLICATION
min.insync.replicas=$MIN_ISR
offsets.topic.replication.factor=$REPLICATION
$offsets
transaction.state.log.replication.factor=$REPLICATION
transaction.state.log.min.isr=$MIN_ISR
share.coordinator.state.topic.replication.factor=$REPLICATION
share.coordinator.state.topic.min.isr=$MIN_ISR
group.initial.rebalance.delay.ms=0
EOF
  )
  cat >"$KAFKA_LOG4J" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by infra/stack.sh. stdout is redirected to .cache/run/logs/kafka*.log. -->
<Configuration status="WARN">
  <Appenders>
    <Console name="STDOUT" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Logger name="kafka.log.LogCleaner" level="WARN"/>
    <Logger name="org.apache.kafka.storage.internals.log.LogLoader" level="WARN"/>
    <Root level="INFO">
      <AppenderRef ref="STDOUT"/>
    </Root>
  </Loggers>
</Configuration>
EOF
}

kafka_classpath() { printf '%s/*' "$KAFKA_LIBS"; }

# One cluster id for every node of the stack, made once.
cluster_id() {
  if [[ ! -s "$KAFKA_CLUSTER_ID_FILE" ]]; then
    local id
    id="$(java "${JVM_FLAGS[@]}" -cp "$(kafka_classpath)" kafka.tools.StorageTool random-uuid 2>/dev/null 9>&- | tail -n 1)"
    [[ -n "$id" ]] || die "kafka: StorageTool random-uuid printed nothing"
    printf '%s\n' "$id" >"$KAFKA_CLUSTER_ID_FILE"
  fi
  cat "$KAFKA_CLUSTER_ID_FILE"
}

# format_kafka_storage N: format node N's data dir once (static voters: no --standalone).
format_kafka_storage() {
  local n="$1" data
  data="$(node_data "$n")"
  [[ -f "$data/meta.properties" ]] && return 0
  local id mode scram=()
  id="$(cluster_id)"
  mode="$(kafka_mode)"
  [[ "$mode" == sasl ]] && scram=(--add-scram "SCRAM-SHA-512=[name=admin,password=$(admin_password)]")
  log "$(node_name "$n"): formatting $data (cluster id $id, $mode)"
  java "${JVM_FLAGS[@]}" -cp "$(kafka_classpath)" kafka.tools.StorageTool format -t "$id" -c "$(node_props "$n")" ${scram[@]+"${scram[@]}"} \
    >>"$LOG_DIR/kafka-format.log" 2>&1 9>&- \
    || { tail -n 20 "$LOG_DIR/kafka-format.log" >&2; die "kafka: storage format failed"; }
  printf '%s\n' "$mode" >"$KAFKA_MODE_FILE"
}

wait_node() {
  local n="$1" pid
  pid="$(node_pid "$n")" || { tail -n 40 "$(node_log "$n")" >&2 2>/dev/null || true; die "$(node_name "$n"): process exited during start-up"; }
  wait_ready "$(node_name "$n")" "$pid" "$(node_port "$n")" "$(node_log "$n")" "Kafka Server started"
}

# start_kafka N...: start the given nodes that are not running, all at once (a node of a cluster cannot
# finish starting until a majority of the quorum's voters runs), then wait until each is ready.
start_kafka() {
  check_shape
  need java "Java 17+ is needed to run Kafka"
  local n pid mode starting=()
  mode="$(kafka_mode)"
  for n in "$@"; do
    if pid="$(node_pid "$n")"; then
      log "$(node_name "$n"): already running (pid $pid)"
      continue
    fi
    port_open "$(node_port "$n")" && die "$(node_name "$n"): $HOST:$(node_port "$n") is in use by a process this script did not start"
    port_open "$(node_ctl_port "$n")" && die "$(node_name "$n"): controller port $HOST:$(node_ctl_port "$n") is already in use"
    if [[ "$mode" == sasl ]]; then
      port_open "$(node_tls_port "$n")" && die "$(node_name "$n"): TLS port $HOST:$(node_tls_port "$n") is already in use (MASH_KAFKA_TLS_PORT)"
    fi
    starting+=("$n")
  done
  if ((${#starting[@]})); then
    mkdir -p "$RUN_DIR" "$LOG_DIR"
    [[ -f "$KAFKA_SHAPE_FILE" ]] || printf '%s\n' "$BROKERS" >"$KAFKA_SHAPE_FILE"
    if [[ "$mode" == sasl ]]; then
      ensure_credentials
      ensure_tls
      record_tls_listener
    elif [[ "$INSECURE" != 1 ]]; then
      log "kafka: WARNING: $(node_data 1) was formatted without SCRAM users; running WITHOUT authentication."
      log "kafka: WARNING: \`infra/stack.sh down --purge\` and \`up\` again to run it secured."
    fi
    local formats=() job
    for n in "${starting[@]}"; do write_kafka_config "$n"; done
    [[ -f "$(node_data "${starting[0]}")/meta.properties" ]] || cluster_id >/dev/null  # made once, before the formats
    for n in "${starting[@]}"; do  # each format is a JVM of a few seconds: side by side
      format_kafka_storage "$n" &
      formats+=("$!")
    done
    for job in "${formats[@]}"; do wait "$job" || die "kafka: storage format failed"; done
    for n in "${starting[@]}"; do
      local logfile
      logfile="$(node_log "$n")"
      [[ -f "$logfile" ]] && mv -f "$logfile" "$logfile.1"
      log "$(node_name "$n"): starting on $HOST:$(node_port "$n") (controller $(node_ctl_port "$n"), node $n of $BROKERS)"
      launch "$(node_pidfile "$n")" "$logfile" \
        java "-Xms$((HEAP_MB / 3))m" "-Xmx${HEAP_MB}m" "${JVM_FLAGS[@]}" -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true -Dlog4j2.configurationFile="$KAFKA_LOG4J" \
        -cp "$(kafka_classpath)" kafka.Kafka "$(node_props "$n")"
    done
  fi
  for n in "$@"; do wait_node "$n"; done
  [[ "$mode" == sasl ]] && provision_security
  return 0
}

# ---------------------------------------------------------------- mongo (mongo-java-server, H2)

MONGO_READY="mongo-java-server ready on"
MONGO_STARTED=$SECONDS

# start_mongo launches the server if it is not running and returns at once; wait_mongo waits for
# it, so that the JVM's start-up (about 3 s) overlaps Kafka's.
start_mongo() {
  local pid
  if pid="$(mongo_pid)"; then
    log "mongo: already running (pid $pid)"
    return 0
  fi
  need java "Java 17+ is needed to run mongo-java-server"
  port_open "$MONGO_PORT" && die "mongo: $HOST:$MONGO_PORT is in use by a process this script did not start"
  mkdir -p "$MONGO_DATA" "$LOG_DIR"
  [[ -f "$MONGO_LOG" ]] && mv -f "$MONGO_LOG" "$MONGO_LOG.1"
  log "mongo: starting mongo-java-server on $HOST:$MONGO_PORT (data $MONGO_FILE)"
  MONGO_STARTED=$SECONDS
  # Launcher.java runs as a single source file (compiled in memory at start, no build step).
  launch "$MONGO_PID" "$MONGO_LOG" \
    java -Xms64m -Xmx512m "${JVM_FLAGS[@]}" -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -cp "$MONGO_LIBS/*" "$MONGO_LAUNCHER" "$HOST" "$MONGO_PORT" "$MONGO_FILE"
}

wait_mongo() {
  local pid
  pid="$(mongo_pid)" || { tail -n 40 "$MONGO_LOG" >&2 2>/dev/null || true; die "mongo: process exited during start-up"; }
  wait_ready mongo "$pid" "$MONGO_PORT" "$MONGO_LOG" "$MONGO_READY" "$MONGO_STARTED"
}

# ---------------------------------------------------------------- readiness

# wait_ready NAME PID PORT LOGFILE PATTERN [START]: poll every 0.5 s until PORT accepts TCP and (if
# given) PATTERN appears in LOGFILE; fail early if the process dies, or after $TIMEOUT s.
wait_ready() {
  local name="$1" pid="$2" port="$3" logfile="$4" pattern="$5" start="${6:-$SECONDS}"
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$logfile" >&2 2>/dev/null || true
      die "$name: process $pid exited during start-up"
    fi
    if { [[ -z "$pattern" ]] || grep -qF -- "$pattern" "$logfile" 2>/dev/null; } && port_open "$port"; then
      log "$name: ready on $HOST:$port (pid $pid, $((SECONDS - start)) s)"
      return 0
    fi
    if ((SECONDS - start >= TIMEOUT)); then
      die "$name: not ready after $TIMEOUT s (pid $pid still running; see $logfile)"
    fi
    sleep 0.5
  done
}

print_env() {
  printf 'export MASH_KAFKA_BOOTSTRAP=%s\n' "$(bootstrap_list)"
  if [[ "$(kafka_mode)" == sasl && -f "$CREDENTIALS" ]]; then
    printf 'export MASH_KAFKA_CREDENTIALS=%s\n' "$CREDENTIALS"
    printf 'export MASH_KAFKA_TLS_BOOTSTRAP=%s\n' "$(tls_bootstrap_list)"
    printf 'export MASH_KAFKA_CA_FILE=%s\n' "$TLS_DIR/ca.pem"
  fi
  # What the services (and an agency kit that creates its topic) give the topics they create.
  printf 'export MASH_KAFKA_REPLICATION_FACTOR=%s\n' "$REPLICATION"
  printf 'export MASH_KAFKA_MIN_INSYNC_REPLICAS=%s\n' "$MIN_ISR"
  printf 'export MASH_AGENCY_TOPIC_REPLICATION=%s\n' "$REPLICATION"
  printf 'export MASH_MONGO_URL=mongodb://%s:%s\n' "$HOST" "$MONGO_PORT"
}

# ---------------------------------------------------------------- commands

# components NAME...: `mongo`, or node numbers, for the names given (`kafka` is every node).
components() {
  local name
  (($#)) || die "name one or more of: mongo kafka$( ((BROKERS > 1)) && printf ' kafka-%s' $NODES)"
  for name in "$@"; do
    case "$name" in
      mongo) echo mongo ;;
      kafka) printf '%s\n' $NODES ;;
      kafka-[1-9])
        ((${name#kafka-} <= BROKERS)) || die "no $name: this stack has $BROKERS Kafka node(s)"
        echo "${name#kafka-}" ;;
      *) die "unknown component '$name' (mongo, kafka$( ((BROKERS > 1)) && printf ', kafka-%s' $NODES))" ;;
    esac
  done
}

# stop_kafka N...: SIGTERM every given node at once (stopping a cluster's nodes one after the other would
# leave the last ones waiting for a quorum that is gone), then wait; KILL what is left after 20 s.
stop_kafka() {
  local n pid pids=() i
  for n in "$@"; do
    if pid="$(node_pid "$n")"; then
      log "$(node_name "$n"): stopping pid $pid"
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$n:$pid")
    else
      log "$(node_name "$n"): not running"
    fi
  done
  for ((i = 0; i < 100; i++)); do
    local alive=0 entry
    for entry in "${pids[@]}"; do kill -0 "${entry#*:}" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.2
  done
  for entry in "${pids[@]}"; do
    n="${entry%%:*}" pid="${entry#*:}"
    if kill -0 "$pid" 2>/dev/null; then
      log "$(node_name "$n"): still alive after 20 s, sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && die "$(node_name "$n"): pid $pid survived KILL"
    fi
    rm -f "$(node_pidfile "$n")"
    log "$(node_name "$n"): stopped"
  done
}

# kill_kafka N...: SIGKILL, as when a machine loses power: no controlled shutdown, no flush.
kill_kafka() {
  local n pid i
  for n in "$@"; do
    if pid="$(node_pid "$n")"; then
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
      kill -0 "$pid" 2>/dev/null && die "$(node_name "$n"): pid $pid survived KILL"
      rm -f "$(node_pidfile "$n")"
      log "$(node_name "$n"): killed pid $pid (SIGKILL)"
    else
      log "$(node_name "$n"): not running"
    fi
  done
}

cmd_provision() {
  lock
  if any_kafka_running; then log "kafka: running; not touching its jars"; else provision_kafka; fi
  if mongo_pid >/dev/null; then log "mongo: running; not touching its jars"; else provision_mongo; fi
  log "provisioned: $KAFKA_LIBS, $MONGO_LIBS"
}

cmd_up() {
  lock
  check_shape
  local t0=$SECONDS
  if ! any_kafka_running; then provision_kafka; fi
  if ! mongo_pid >/dev/null; then provision_mongo; fi
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  start_mongo
  # shellcheck disable=SC2086 # NODES is a list of numbers
  start_kafka $NODES
  wait_mongo
  log "stack up in $((SECONDS - t0)) s ($BROKERS Kafka node(s), replication $REPLICATION, min.insync.replicas $MIN_ISR; logs: $LOG_DIR)"
  print_env
}

cmd_down() {
  local purge=0
  case "${1:-}" in
    "") ;;
    --purge) purge=1 ;;
    *) die "usage: $0 down [--purge]" ;;
  esac
  lock
  # shellcheck disable=SC2086
  stop_kafka $NODES
  stop mongo "$MONGO_PID" "$MONGO_FILE"
  if ((purge)); then
    log "purging $RUN_DIR"
    rm -rf "$RUN_DIR"
  fi
}

# stop/start/kill components: the fault suites restart and kill brokers mid-flow with these.
cmd_stop_some() {
  local list nodes=() c
  list="$(components "$@")"
  lock
  for c in $list; do [[ "$c" == mongo ]] || nodes+=("$c"); done
  ((${#nodes[@]})) && stop_kafka "${nodes[@]}"
  if grep -qx mongo <<<"$list"; then stop mongo "$MONGO_PID" "$MONGO_FILE"; fi
  return 0
}

cmd_kill_some() {
  local list nodes=() c
  list="$(components "$@")"
  lock
  for c in $list; do [[ "$c" == mongo ]] || nodes+=("$c"); done
  ((${#nodes[@]})) && kill_kafka "${nodes[@]}"
  if grep -qx mongo <<<"$list" && pid="$(mongo_pid)"; then
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$MONGO_PID"
    log "mongo: killed pid $pid (SIGKILL)"
  fi
  return 0
}

cmd_start_some() {
  local list nodes=() c
  list="$(components "$@")"
  lock
  for c in $list; do [[ "$c" == mongo ]] || nodes+=("$c"); done
  if grep -qx mongo <<<"$list"; then provision_mongo; start_mongo; fi
  if ((${#nodes[@]})); then
    any_kafka_running || provision_kafka
    start_kafka "${nodes[@]}"
  fi
  if grep -qx mongo <<<"$list"; then wait_mongo; fi
  return 0
}

cmd_acls() {
  local namespace="${1:-}"
  [[ "$namespace" =~ ^[a-z0-9-]*$ ]] || die "usage: $0 acls <namespace> (lower case letters, digits, hyphens)"
  lock
  any_kafka_running || die "kafka is not running"
  [[ "$(kafka_mode)" == sasl ]] || die "kafka runs without authentication; there are no ACLs to grant"
  acl_spec "$namespace" >"$RUN_DIR/security/acls-$namespace.spec"
  run_security "$RUN_DIR/security/acls-$namespace.spec"
}

# A region's principals and ACLs (docs/federation.md): demo/kafka_access.py writes the spec, with the
# passwords it added to the credentials file, and this runs it with the stack's admin and compiled tool.
cmd_security() {
  local spec="${1:-}"
  [[ -f "$spec" ]] || die "usage: $0 security <spec-file> (user and allow lines, see infra/kafka/Security.java)"
  lock
  any_kafka_running || die "kafka is not running"
  [[ "$(kafka_mode)" == sasl ]] || die "kafka runs without authentication; there are no users or ACLs to create"
  run_security "$spec"
}

cmd_status() {
  local rc=0 pid n state
  for n in $NODES; do
    if pid="$(node_pid "$n")"; then state=running; else state=stopped pid=- rc=3; fi
    printf '%-9s %-8s pid=%-7s port=%s controller=%s tls=%s\n' "$(node_name "$n")" "$state" "$pid" \
      "$(node_port "$n")" "$(node_ctl_port "$n")" "$(node_tls_port "$n")"
  done
  if pid="$(mongo_pid)"; then
    printf 'mongo     running  pid=%-7s port=%s\n' "$pid" "$MONGO_PORT"
  else
    printf 'mongo     stopped  pid=%-7s port=%s\n' "-" "$MONGO_PORT"
    rc=3
  fi
  return "$rc"
}

usage() {
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" >&2
  exit 2
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
    up) cmd_up ;;
    down) cmd_down "$@" ;;
    stop) cmd_stop_some "$@" ;;
    start) cmd_start_some "$@" ;;
    kill) cmd_kill_some "$@" ;;
    status) cmd_status ;;
    provision) cmd_provision ;;
    env) print_env ;;
    acls) cmd_acls "$@" ;;
    security) cmd_security "$@" ;;
    -h | --help | help | "") usage ;;
    *) log "unknown command '$cmd'"; usage ;;
  esac
}

main "$@"
