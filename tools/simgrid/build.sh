#!/bin/sh
# Builds the SimGrid side of `npm run compare:simgrid` (driver.cpp) against the
# installed SimGrid 3.32 (Debian's libsimgrid-dev). Usage: build.sh <output binary>.
# Exits with status 3 when SimGrid is not installed, so the caller can fall back to
# the recorded output (simgrid-grid.json).
set -e
out="${1:?usage: build.sh <output binary>}"
if ! pkg-config --exists simgrid 2>/dev/null && [ ! -f /usr/include/simgrid/s4u.hpp ]; then
  echo "SimGrid is not installed (libsimgrid-dev)" >&2
  exit 3
fi
flags="$(pkg-config --cflags --libs simgrid 2>/dev/null || echo -lsimgrid)"
dir="$(dirname "$0")"
g++ -std=c++17 -O2 -o "$out" "$dir/driver.cpp" $flags
