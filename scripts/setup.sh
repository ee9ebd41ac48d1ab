#!/usr/bin/env bash
# Installs what building and testing RegSandbox needs on a Debian or Ubuntu
# machine, and only what is missing: the C toolchain and the X11/OpenGL
# headers Fyne compiles against, Xvfb for the window's end-to-end test, and
# ImageMagick's import for its screenshot. Safe to run again.
set -euo pipefail

need_go="1.26"
if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    echo "setup: Go $need_go or newer is required (https://go.dev/dl/); it is not on PATH" >&2
    exit 1
  fi
fi

packages=()
command -v gcc >/dev/null 2>&1 || packages+=(gcc)
command -v pkg-config >/dev/null 2>&1 || packages+=(pkg-config)
if ! pkg-config --exists gl x11 xcursor xrandr xinerama xi xxf86vm 2>/dev/null; then
  packages+=(libgl1-mesa-dev xorg-dev)
fi
# Xvfb needs Mesa's software renderer for the window's OpenGL.
command -v Xvfb >/dev/null 2>&1 || packages+=(xvfb xauth libgl1-mesa-dri)
command -v import >/dev/null 2>&1 || packages+=(imagemagick)
command -v xdotool >/dev/null 2>&1 || packages+=(xdotool)
command -v tesseract >/dev/null 2>&1 || packages+=(tesseract-ocr)
command -v curl >/dev/null 2>&1 || packages+=(curl)

if [ ${#packages[@]} -gt 0 ]; then
  echo "setup: installing ${packages[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
