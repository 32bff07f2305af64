#!/usr/bin/env bash
# GOV.UK Frontend for the workspace's pages, from npm, built here and never committed.
#
#   bash infra/assets.sh          # install (npm ci) and build if anything changed; quick otherwise
#   bash infra/assets.sh --force  # rebuild even if nothing changed
#
# Inputs (committed): services/workspace/package.json and package-lock.json (govuk-frontend and sass,
# pinned exactly), services/workspace/assets/application.scss.
# npm installs into $MASH_CACHE_DIR/npm/workspace (default .cache/npm/workspace), outside the source tree.
# Output (git-ignored), services/workspace/src/mash_workspace/static/govuk/:
#   application.css              our Sass build of GOV.UK Frontend: no GDS Transport, no crown
#   govuk-frontend.min.js(.map)  the Frontend's JavaScript, an ES module (<script type="module">)
#   assets/                      the Frontend's images and manifest.json, WITHOUT fonts/
# The ready-made govuk-frontend.min.css and the GDS Transport fonts are deliberately not copied: the
# typeface is for services on GOV.UK only (see assets/application.scss).
# A stamp (sha256 of the inputs and this script) in the output makes a second run a no-op.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${MASH_CACHE_DIR:-$ROOT/.cache}"
SRC="$ROOT/services/workspace"
NPM_DIR="$CACHE/npm/workspace"
OUT="$SRC/src/mash_workspace/static/govuk"
STAMP="$OUT/.built-from"

log() { printf 'assets.sh: %s\n' "$*" >&2; }

inputs=("$SRC/package.json" "$SRC/package-lock.json" "$SRC/assets/application.scss" "${BASH_SOURCE[0]}")
key() { cat "${inputs[@]}" | sha256sum | cut -d' ' -f1; }

up_to_date() {
    [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(key)" ]] &&
        [[ -f "$OUT/application.css" && -f "$OUT/govuk-frontend.min.js" && -d "$OUT/assets/images" ]]
}

if [[ "${1:-}" != "--force" ]] && up_to_date; then
    log "up to date: $OUT"
    exit 0
fi

for tool in node npm sha256sum flock; do
    command -v "$tool" >/dev/null 2>&1 || { log "needs $tool on PATH (Node.js 20.19 or newer, with npm)"; exit 1; }
done

mkdir -p "$NPM_DIR"
exec 9>"$CACHE/assets.lock"
flock 9
if [[ "${1:-}" != "--force" ]] && up_to_date; then # another run built it while we waited
    log "up to date: $OUT"
    exit 0
fi

# npm ci only when the lock file changed since the last install.
lock_sum="$(sha256sum <"$SRC/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$NPM_DIR/node_modules/.mash-lock.sha256" || "$(cat "$NPM_DIR/node_modules/.mash-lock.sha256")" != "$lock_sum" ]]; then
    log "npm ci in $NPM_DIR (govuk-frontend, sass)"
    cp "$SRC/package.json" "$SRC/package-lock.json" "$NPM_DIR/"
    # No install scripts are needed (the only one is sass's optional file watcher, used by --watch).
    (cd "$NPM_DIR" && npm ci --ignore-scripts --omit=optional --no-audit --no-fund --loglevel=error >&2)
    printf '%s\n' "$lock_sum" >"$NPM_DIR/node_modules/.mash-lock.sha256"
fi

FRONTEND="$NPM_DIR/node_modules/govuk-frontend/dist/govuk"
version="$(node -p "require('$NPM_DIR/node_modules/govuk-frontend/package.json').version")"
log "building GOV.UK Frontend $version into $OUT"

# Build beside the output and swap it in only when everything succeeded.
mkdir -p "$(dirname "$OUT")"
tmp="$(mktemp -d "$(dirname "$OUT")/.govuk.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp" # mktemp makes it private; the pages' server may run as another user
"$NPM_DIR/node_modules/.bin/sass" --load-path="$NPM_DIR/node_modules" --style=compressed --no-source-map \
    "$SRC/assets/application.scss" "$tmp/application.css"
if grep -q "GDS Transport" "$tmp/application.css"; then
    log "application.css still refers to GDS Transport; check assets/application.scss"
    exit 1
fi
cp "$FRONTEND/govuk-frontend.min.js" "$FRONTEND/govuk-frontend.min.js.map" "$tmp/"
cp -R "$FRONTEND/assets" "$tmp/assets"
rm -rf "$tmp/assets/fonts"
key >"$tmp/.built-from"

rm -rf "$OUT.old"
[[ -e "$OUT" ]] && mv "$OUT" "$OUT.old"
mv "$tmp" "$OUT"
rm -rf "$OUT.old"
trap - EXIT
log "done: $(cd "$OUT" && find . -type f ! -name '.built-from' | sort | tr '\n' ' ')"
