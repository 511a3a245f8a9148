#!/usr/bin/env bash
# Installs what `make test` and `make demo` need and is missing: Node dependencies, a
# redis-server (Debian package) when REDIS_URL is unset and, for the tests, PostgreSQL (Debian
# package) when DATABASE_URL is unset and Chromium (Debian package) for the browser tests.
# Safe to run repeatedly.
#   usage: scripts/ensure-deps.sh [demo|test]
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }
fail() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# --- Node.js ----------------------------------------------------------------------------
command -v node >/dev/null 2>&1 || fail "Node.js >= 20.19 is required (https://nodejs.org or your distribution's nodejs package)."
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || fail "Node.js >= 20.19 is required; found $(node --version)."

# --- npm dependencies -------------------------------------------------------------------
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# --- apt helper -------------------------------------------------------------------------
APT_UPDATED=0
apt_install() {
  local pkgs=("$@")
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else return 1; fi
  fi
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ "$APT_UPDATED" -eq 0 ]; then
    $sudo apt-get update -qq >/dev/null || return 1
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}

# --- Redis ------------------------------------------------------------------------------
if [ -z "${REDIS_URL:-}" ]; then
  if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then
    say "installing redis-server (apt-get)"
    apt_install redis-server || fail "redis-server is missing and could not be installed with apt-get (need root or passwordless sudo on Debian/Ubuntu).
       Install it yourself (sudo apt-get install redis-server), or set REDIS_URL to an existing Redis >= 6.2."
  fi
  # Debian starts a system-wide instance on install; this project never uses it (it runs its own on a free port).
fi

# --- PostgreSQL (tests only: the Postgres checkpointer suite starts its own cluster) ------
if [ "${1:-demo}" = "test" ] && [ -z "${DATABASE_URL:-}" ]; then
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
    say "installing postgresql (apt-get)"
    apt_install postgresql || fail "PostgreSQL is missing and could not be installed with apt-get (need root or passwordless sudo on Debian/Ubuntu).
       Install it yourself (sudo apt-get install postgresql), or set DATABASE_URL to an existing PostgreSQL >= 13."
  fi
fi

# --- Chromium (tests only: the review UI runs in real headless Chromium via playwright-core) ---
if [ "${1:-demo}" = "test" ] && [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
  say "installing chromium (apt-get) for the review UI browser tests"
  apt_install chromium || fail "Chromium is missing and could not be installed with apt-get (need root or passwordless sudo on Debian/Ubuntu).
       Install it yourself (sudo apt-get install chromium), or set CHROMIUM_PATH to a Chromium or Chrome binary."
fi

say "ready"
