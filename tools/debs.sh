#!/usr/bin/env bash
# Make sure the Debian packages a target needs are present.
# As root it installs what is missing; otherwise it prints the exact apt-get line.
# Usage: tools/debs.sh venv|run|test
set -euo pipefail

case "${1:-run}" in
  venv) pkgs="python3-venv python3-dev" ;;
  # Kivy's wheel bundles SDL2; these make it render with Mesa and read input devices.
  run)  pkgs="libgl1-mesa-dri libegl1 libmtdev1 xclip libzbar0 fonts-dejavu-core" ;;
  test) pkgs="libgl1-mesa-dri libegl1 libmtdev1 xclip libzbar0 fonts-dejavu-core xvfb xauth xdotool socat postgresql chromium mariadb-server" ;;
  *) echo "usage: $0 venv|run|test" >&2; exit 2 ;;
esac

command -v dpkg-query >/dev/null 2>&1 || exit 0   # not Debian: nothing we can do here

missing=""
for p in $pkgs; do
  if [ "$p" = python3-venv ]; then
    # The venv module may come with python3 itself (pyenv, other distros); only ask when absent.
    python3 -c 'import ensurepip, venv' >/dev/null 2>&1 && continue
  fi
  if [ "$p" = python3-dev ]; then
    continue  # only needed where a wheel is missing; installed with venv when we are root anyway
  fi
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
  echo "installing Debian packages:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq $missing >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq $missing >/dev/null
  fi
else
  echo "Missing Debian packages. Run:" >&2
  echo "  sudo apt-get install -y$missing" >&2
  [ "${1:-}" = test ] && exit 0   # tests that need them skip (or fail under KIOSK_REQUIRE_ALL=1)
  exit 1
fi
