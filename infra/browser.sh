#!/usr/bin/env bash
# A Chromium for the browser tests (Playwright drives it with `executable_path`).
#
#   bash infra/browser.sh            # prints the executable's path on stdout; progress on stderr
#
# Which one, in order:
#   1. $MASH_CHROMIUM, when set (it must work, or this fails);
#   2. one already installed: chromium-headless-shell, chromium, chromium-browser, google-chrome-stable,
#      google-chrome on PATH, or one an earlier run fetched with Playwright into $MASH_CACHE_DIR/ms-playwright;
#   3. as root with apt-get (Debian, Ubuntu images): `apt-get install --no-install-recommends
#      chromium-headless-shell fonts-liberation` (skip with MASH_BROWSER_NO_APT=1);
#   4. otherwise `python -m playwright install chromium` into $MASH_CACHE_DIR/ms-playwright.
# A candidate counts only if `<it> --version` answers (Ubuntu's chromium-browser may be a snap stub).
#
# Chromium's headless shell comes first: the tests only ever run headless, and the shell (the "old headless"
# Playwright itself launches for headless runs) did the same browser tests for a fifth of the full browser's
# CPU (two modules, ten tests: 4.7 against 26.1 CPU-s), and its package is the smaller download.
#
# Quick when a browser is there: nothing is installed, one `--version` is run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${MASH_CACHE_DIR:-$ROOT/.cache}"
PW_BROWSERS="$CACHE/ms-playwright"

log() { printf 'browser.sh: %s\n' "$*" >&2; }

# The version line when $1 is an executable that runs, else nothing (and status 1).
version_of() {
    [[ -n "$1" && -x "$1" ]] || return 1
    local out
    out="$(timeout 30 "$1" --version 2>/dev/null | head -n 1)" || return 1
    [[ -n "$out" ]] || return 1
    printf '%s' "$out"
}

use() { # $1 path, $2 how it was found
    log "using $2: $1 ($3)"
    printf '%s\n' "$1"
    exit 0
}

python_bin() {
    if [[ -x "$ROOT/.venv/bin/python" ]]; then printf '%s' "$ROOT/.venv/bin/python"; else command -v python3; fi
}

# Playwright's own Chromium in our cache, if an earlier run fetched it.
playwright_chromium() {
    [[ -d "$PW_BROWSERS" ]] || return 1
    local py
    py="$(python_bin)" || return 1
    PLAYWRIGHT_BROWSERS_PATH="$PW_BROWSERS" "$py" - <<'EOF' 2>/dev/null
from playwright.sync_api import sync_playwright

with sync_playwright() as p:
    print(p.chromium.executable_path)
EOF
}

# 1. Told which one.
if [[ -n "${MASH_CHROMIUM:-}" ]]; then
    if v="$(version_of "$MASH_CHROMIUM")"; then use "$MASH_CHROMIUM" "\$MASH_CHROMIUM" "$v"; fi
    log "MASH_CHROMIUM=$MASH_CHROMIUM does not run ('$MASH_CHROMIUM --version' failed)"
    exit 1
fi

# 2. Already installed.
find_existing() {
    local name path v
    for name in chromium-headless-shell chromium chromium-browser google-chrome-stable google-chrome; do
        path="$(command -v "$name" 2>/dev/null)" || continue
        if v="$(version_of "$path")"; then use "$path" "the installed $name" "$v"; fi
        log "skipping $path: '--version' does not answer"
    done
    if path="$(playwright_chromium)" && v="$(version_of "$path")"; then
        use "$path" "Playwright's Chromium from an earlier run" "$v"
    fi
}
find_existing

# Only one installer at a time (two test runs starting together).
mkdir -p "$CACHE"
exec 9>"$CACHE/browser.lock"
flock 9
find_existing # another run may have installed one while we waited

# 3. Debian's package, where apt is ours.
if [[ "$(id -u)" == 0 && -z "${MASH_BROWSER_NO_APT:-}" ]] && command -v apt-get >/dev/null 2>&1; then
    log "no Chromium found; installing Debian's chromium-headless-shell with apt-get (as root)"
    export DEBIAN_FRONTEND=noninteractive
    if apt-get -o DPkg::Lock::Timeout=300 update -qq >&2 &&
        apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends chromium-headless-shell fonts-liberation >&2; then
        find_existing
        log "apt-get installed chromium-headless-shell, but no working executable was found"
    else
        log "apt-get could not install chromium-headless-shell"
    fi
fi

# 4. Playwright's download.
log "installing Playwright's Chromium into $PW_BROWSERS (python -m playwright install chromium)"
PLAYWRIGHT_BROWSERS_PATH="$PW_BROWSERS" "$(python_bin)" -m playwright install chromium >&2 || {
    log "python -m playwright install chromium failed; set MASH_CHROMIUM to a Chromium or Chrome executable"
    exit 1
}
if path="$(playwright_chromium)" && v="$(version_of "$path")"; then
    use "$path" "Playwright's Chromium, just installed" "$v"
fi
log "Playwright reported no working Chromium; set MASH_CHROMIUM to a Chromium or Chrome executable"
exit 1
