#!/usr/bin/env bash
# Installs what Chordsmith needs; safe to run again (quick when everything is already there).
#  - Debian packages, where apt-get and root are available: fluidsynth + a General MIDI soundfont
#    (audio; without them the NumPy synth plays instead) and chromium (real-browser tests).
#  - Python packages pinned in requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

missing=()
for pkg in fluidsynth timgm6mb-soundfont chromium; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null || echo "setup: warning: apt-get could not install ${missing[*]}"
  else
    echo "setup: note: not installing ${missing[*]} (needs apt-get as root); audio uses the NumPy synth, browser tests skip"
  fi
fi

stamp=output/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages from requirements.txt"
  "$PYTHON" -m pip install -q --disable-pip-version-check -r requirements.txt
  mkdir -p output && echo "$want" > "$stamp"
fi
