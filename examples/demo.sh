#!/usr/bin/env bash
# `make demo`: build a busybox base image from Debian's busybox-static, build the example
# app on it, run it, then change a source file and rebuild to show the cache at work.
set -euo pipefail
cd "$(dirname "$0")/.."
HOIST="$PWD/.venv/bin/hoist"
work="$PWD/.hoist-demo"
export HOIST_ROOT="${HOIST_ROOT:-$work/store}"
mkdir -p "$work"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "building busybox:local (FROM scratch + /bin/busybox) into $HOIST_ROOT"
rm -rf "$work/busybox-context" && mkdir -p "$work/busybox-context"
cp examples/busybox/Dockerfile examples/busybox/.dockerignore "$work/busybox-context/"
cp /bin/busybox "$work/busybox-context/busybox"
"$HOIST" build -t busybox:local "$work/busybox-context"

say "building examples/hello"
rm -rf "$work/hello" && cp -r examples/hello "$work/hello"
"$HOIST" build -t hello:latest "$work/hello"

say "running hello:latest"
"$HOIST" run --rm hello:latest

say "rebuilding with nothing changed: every step comes from the cache"
"$HOIST" build -t hello:latest "$work/hello"

say "editing app.sh and rebuilding: only the steps after COPY . . run again"
echo 'echo "edited at build time"' >> "$work/hello/app.sh"
"$HOIST" build -t hello:latest "$work/hello"
"$HOIST" run --rm hello:latest

say "hoist images"
"$HOIST" images
