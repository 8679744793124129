#!/usr/bin/env bash
# Sets up the project's own environment; safe to run again (quick when nothing changed).
#   bash scripts/setup.sh         the studio, CLI and API: Debian packages in packages.txt, a virtual
#                                 environment .venv/ with requirements.txt
#   bash scripts/setup.sh --dev   also what the tests need: chromium, nginx, and requirements-dev.txt
# Debian packages are installed only where apt-get runs as root; without them audio uses the NumPy
# synth and the browser tests skip. Python packages always go into .venv/ (never the system Python,
# which PEP 668 distributions refuse). PYTHON picks the interpreter that creates .venv (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
VENV_PYTHON=$VENV/bin/python
DEV_DEBIAN_PACKAGES=(chromium nginx)   # the real-browser tests and the replicas-behind-nginx test only

dev=false
case "${1:-}" in
  "") ;;
  --dev) dev=true ;;
  *) echo "setup: error: unknown option ${1} (accepted: --dev)" >&2; exit 2 ;;
esac

can_apt() { command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; }

apt_updated=false
apt_install() {  # apt_install PACKAGE...: quiet install; on failure shows apt-get's output, returns non-zero
  local log
  if [ "$apt_updated" = false ]; then
    log=$(apt-get update -qq 2>&1) || { echo "$log" >&2; return 1; }
    apt_updated=true
  fi
  log=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" 2>&1) ||
    { echo "$log" >&2; return 1; }
}

debian_packages() {  # debian_packages PACKAGE...: install the ones missing, or say what is lost
  command -v dpkg >/dev/null 2>&1 || { echo "setup: note: not a Debian system; install $* by hand (see docs/development.md, Set-up)"; return 0; }
  local missing=() pkg
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if can_apt; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt_install "${missing[@]}" || echo "setup: warning: apt-get could not install ${missing[*]}"
  else
    echo "setup: note: not installing ${missing[*]} (needs apt-get as root);" \
      "without fluidsynth audio uses the NumPy synth, without chromium the browser tests skip, without nginx" \
      "the replicas test skips"
  fi
}

python_minor() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }

venv_works() {  # .venv runs, has pip, and was made by the same Python version as $PYTHON
  [ -x "$VENV_PYTHON" ] && "$VENV_PYTHON" -c 'import pip' >/dev/null 2>&1 &&
    [ "$(python_minor "$VENV_PYTHON")" = "$(python_minor "$PYTHON")" ]
}

ensure_venv_module() {  # Debian and Ubuntu ship venv's ensurepip apart, in python3.X-venv
  "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1 && return 0
  local minor
  minor=$(python_minor "$PYTHON")
  if can_apt; then
    echo "setup: installing Debian package python${minor}-venv (for python3 -m venv)"
    apt_install "python${minor}-venv" || apt_install python3-venv || true
  fi
  "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1 && return 0
  echo "setup: error: $PYTHON cannot create a virtual environment (no ensurepip);" \
    "install python${minor}-venv (Debian/Ubuntu) or set PYTHON to another Python 3" >&2
  exit 1
}

make_venv() {
  command -v "$PYTHON" >/dev/null 2>&1 || { echo "setup: error: $PYTHON not found; install Python 3 or set PYTHON" >&2; exit 1; }
  venv_works && return 0
  if [ -e "$VENV" ]; then
    echo "setup: recreating $VENV (it does not run, lacks pip, or was made by another Python version)"
    rm -rf "$VENV"
  fi
  ensure_venv_module
  echo "setup: creating $VENV with $("$PYTHON" --version 2>&1) ($(command -v "$PYTHON"))"
  "$PYTHON" -m venv "$VENV"
}

stamp_of() {  # stamp_of FILE...: SHA-256 of the files' contents and the environment's Python version
  "$VENV_PYTHON" -c 'import hashlib, sys
digest = hashlib.sha256(sys.version.encode())
for name in sys.argv[1:]:
    with open(name, "rb") as file:
        digest.update(file.read())
print(digest.hexdigest())' "$@"
}

pip_install() {  # pip_install NAME FILE...: install the last FILE into .venv unless the stamp of all FILEs is current
  local stamp=$VENV/.chordsmith-$1.sha256 requirements=${!#} want
  shift
  want=$(stamp_of "$@")
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  echo "setup: installing Python packages from $requirements into $VENV"
  "$VENV_PYTHON" -m pip install -q --disable-pip-version-check -r "$requirements"
  echo "$want" > "$stamp"
}

runtime_debian=()
while read -r pkg _; do
  case "$pkg" in ""|"#"*) ;; *) runtime_debian+=("$pkg") ;; esac
done < packages.txt
if [ "$dev" = true ]; then
  debian_packages "${runtime_debian[@]}" "${DEV_DEBIAN_PACKAGES[@]}"
else
  debian_packages "${runtime_debian[@]}"
fi

make_venv
if [ "$dev" = true ]; then
  pip_install dev requirements.txt requirements-dev.txt
  # requirements-dev.txt includes requirements.txt, so the runtime set is current too
  stamp_of requirements.txt > "$VENV/.chordsmith-runtime.sha256"
else
  pip_install runtime requirements.txt
fi
