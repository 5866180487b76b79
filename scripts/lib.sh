# shellcheck shell=bash
# Shared helpers for the scripts in this folder: source it, do not run it.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC2034  # used by the scripts that source this file
SCRIPTS="$ROOT/scripts"
cd "$ROOT" || exit 1

# uv must use the interpreter we hand it and never fetch a Python of its own.
export UV_PYTHON_DOWNLOADS=never
# Another project's virtual environment must not leak into ours.
unset VIRTUAL_ENV
# uv verifies TLS with its own bundled roots unless told otherwise; use the system's CA bundle
# (where this network's proxy certificate lives) when none is configured.
if [[ -z "${SSL_CERT_FILE:-}" && -r /etc/ssl/certs/ca-certificates.crt ]]; then
  export SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
fi

say() { printf '==> %s\n' "$*" >&2; }
warn() { printf '!!! %s\n' "$*" >&2; }
die() {
  printf '\nERROR: %s\n' "$*" >&2
  exit 1
}
