#!/usr/bin/env bash
# The local OpenID Connect provider (infra/oidc/provider.py: oidc-provider-mock with the demo users of
# infra/oidc/users.yaml and RS256 JWT access tokens), bound to 127.0.0.1.
#
#   infra/oidc.sh up       start it unless running, wait until discovery answers, print the export line
#   infra/oidc.sh down     stop what `up` started (by pid file)
#   infra/oidc.sh status   running/stopped; exit 0 if running, else 3
#   infra/oidc.sh env      print the export line only
#
# Progress goes to stderr; `up` and `env` print only `export NAME=value` lines on stdout, so
#   eval "$(bash infra/oidc.sh up)"
# works. Environment: MASH_CACHE_DIR (default <repo>/.cache), MASH_OIDC_PORT (9400),
# MASH_OIDC_AUDIENCE (mash-hub: the `aud` of its access tokens), MASH_OIDC_TIMEOUT (30 s),
# UV_PROJECT_ENVIRONMENT (the virtualenv, default <repo>/.venv; `make install` creates it).
set -euo pipefail

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$INFRA_DIR/.." && pwd)"
CACHE_DIR="${MASH_CACHE_DIR:-$REPO_DIR/.cache}"
RUN_DIR="$CACHE_DIR/run"
LOG_DIR="$RUN_DIR/logs"

HOST=127.0.0.1
PORT="${MASH_OIDC_PORT:-9400}"
AUDIENCE="${MASH_OIDC_AUDIENCE:-mash-hub}"
TIMEOUT="${MASH_OIDC_TIMEOUT:-30}"
PY="${UV_PROJECT_ENVIRONMENT:-$REPO_DIR/.venv}/bin/python"
LAUNCHER="$INFRA_DIR/oidc/provider.py"
USERS="$INFRA_DIR/oidc/users.yaml"
ISSUER="http://$HOST:$PORT"

PID_FILE="$RUN_DIR/oidc.pid"
LOG_FILE="$LOG_DIR/oidc.log"

log() { printf '[oidc] %s\n' "$*" >&2; }
die() { printf '[oidc] ERROR: %s\n' "$*" >&2; exit 1; }

for n in "$PORT" "$TIMEOUT"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "port/timeout must be integers, got '$n'"
done

# One operation at a time per cache dir; fd 8 is closed in the provider so it never holds the lock.
lock() {
  mkdir -p "$CACHE_DIR"
  exec 8>"$CACHE_DIR/oidc.lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w "$((TIMEOUT + 30))" 8 || die "another infra/oidc.sh holds $CACHE_DIR/oidc.lock"
  fi
}

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

# The pid in the pid file, if that process is alive and is this checkout's launcher; a stale file is removed.
provider_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(tr -dc '0-9' <"$PID_FILE")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
     && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$LAUNCHER"; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$PID_FILE"
  return 1
}

# Discovery answers and names the issuer we expect.
discovery_ok() {
  "$PY" - "$ISSUER" <<'EOF' 2>/dev/null
import json, sys, urllib.request
issuer = sys.argv[1]
with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=2) as response:
    sys.exit(0 if json.load(response).get("issuer") == issuer else 1)
EOF
}

# Poll until discovery answers; fail early if the process dies, or after $TIMEOUT s.
wait_ready() {
  local pid="$1" start=$SECONDS
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$LOG_FILE" >&2 2>/dev/null || true
      die "provider process $pid exited during start-up (log: $LOG_FILE)"
    fi
    if discovery_ok; then
      log "ready: issuer $ISSUER (pid $pid, $((SECONDS - start)) s)"
      return 0
    fi
    ((SECONDS - start >= TIMEOUT)) && die "not ready after $TIMEOUT s (pid $pid still running; see $LOG_FILE)"
    sleep 0.2
  done
}

print_env() { printf 'export MASH_OIDC_ISSUER=%s\n' "$ISSUER"; }

cmd_up() {
  lock
  local pid
  if pid="$(provider_pid)"; then
    log "already running (pid $pid)"
    wait_ready "$pid"
    print_env
    return 0
  fi
  [[ -x "$PY" ]] || die "$PY not found: run 'make install' first"
  port_open "$PORT" && die "$HOST:$PORT is in use by a process this script did not start"
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  [[ -f "$LOG_FILE" ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
  log "starting on $HOST:$PORT (users $USERS, access tokens for '$AUDIENCE')"
  rm -f "$PID_FILE"
  # The wrapper writes its own pid and then execs the provider, so the pid file names the provider.
  setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    "$PY" "$LAUNCHER" --host "$HOST" --port "$PORT" --users "$USERS" --audience "$AUDIENCE" \
    </dev/null >>"$LOG_FILE" 2>&1 8>&- &
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s "$PID_FILE" ]] && break
    sleep 0.1
  done
  [[ -s "$PID_FILE" ]] || die "the provider did not record its pid in $PID_FILE"
  wait_ready "$(cat "$PID_FILE")"
  print_env
}

cmd_down() {
  lock
  local pid i
  if ! pid="$(provider_pid)"; then
    log "not running"
    return 0
  fi
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still alive after 10 s, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_status() {
  local pid
  if pid="$(provider_pid)"; then
    printf 'oidc      running  pid=%-7s issuer=%s\n' "$pid" "$ISSUER"
    return 0
  fi
  printf 'oidc      stopped  pid=%-7s issuer=%s\n' "-" "$ISSUER"
  return 3
}

usage() {
  sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) print_env ;;
  -h | --help | help | "") usage ;;
  *) log "unknown command '$1'"; usage ;;
esac
