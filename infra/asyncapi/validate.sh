#!/usr/bin/env bash
# Validates schemas/json/asyncapi.json with the AsyncAPI parser (npm @asyncapi/parser, pinned in
# package-lock.json beside this script). Run by `make test` (and so by CI on a fresh clone).
#
#   bash infra/asyncapi/validate.sh            # install if needed (npm ci), then validate
#   bash infra/asyncapi/validate.sh --install  # only install
#   bash infra/asyncapi/validate.sh FILE       # validate another document
#
# npm installs into $MASH_CACHE_DIR/npm/asyncapi (default .cache/npm/asyncapi), outside the source tree,
# and again only when package-lock.json changes. Warnings fail the check too: the document is generated,
# so a warning is a generator bug to fix, not noise.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/infra/asyncapi"
CACHE="${MASH_CACHE_DIR:-$ROOT/.cache}"
NPM_DIR="$CACHE/npm/asyncapi"

log() { printf 'asyncapi: %s\n' "$*" >&2; }

for tool in node npm sha256sum flock; do
    command -v "$tool" >/dev/null 2>&1 || { log "needs $tool on PATH (Node.js 18 or newer, with npm)"; exit 1; }
done

mkdir -p "$NPM_DIR"
lock_sum="$(cat "$HERE/package-lock.json" "$HERE/package.json" | sha256sum | cut -d' ' -f1)"
stamp="$NPM_DIR/node_modules/.mash-lock.sha256"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_sum" ]]; then
    exec 9>"$CACHE/asyncapi.lock"
    flock 9
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_sum" ]]; then
        log "npm ci in $NPM_DIR (@asyncapi/parser)"
        cp "$HERE/package.json" "$HERE/package-lock.json" "$NPM_DIR/"
        (cd "$NPM_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
        printf '%s\n' "$lock_sum" >"$stamp"
    fi
    exec 9>&-
fi
cp "$HERE/validate.mjs" "$NPM_DIR/validate.mjs"

[[ "${1:-}" == "--install" ]] && exit 0
node "$NPM_DIR/validate.mjs" "${1:-$ROOT/schemas/json/asyncapi.json}" --strict
