#!/usr/bin/env bash
# `make demo-node`: the classic Node.js shape on a Debian base made with debootstrap.
# The Debian base (debootstrap --variant=minbase bookworm) is made once and kept in .hoist-demo/;
# node:bookworm-local (Debian's nodejs and npm, installed with apt in a RUN) is built on it.
set -euo pipefail
cd "$(dirname "$0")/../.."
HOIST="$PWD/.venv/bin/hoist"
work="$PWD/.hoist-demo"
export HOIST_ROOT="${HOIST_ROOT:-$work/store}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$work"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if ! "$HOIST" inspect debian:bookworm-local >/dev/null 2>&1; then
  if [ ! -s "$work/bookworm.tar" ]; then
    say "debootstrap --variant=minbase bookworm from $MIRROR"
    rm -rf "$work/rootfs"
    debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR"
    rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
    tar -C "$work/rootfs" --numeric-owner -cf "$work/bookworm.tar.tmp" .
    mv "$work/bookworm.tar.tmp" "$work/bookworm.tar"
    rm -rf "$work/rootfs"
  fi
  say "hoist import: debian:bookworm-local"
  "$HOIST" import -c 'CMD ["bash"]' "$work/bookworm.tar" debian:bookworm-local
fi

say "building node:bookworm-local (apt-get install nodejs npm, in a RUN)"
rm -rf "$work/node-base" && cp -r examples/node-base "$work/node-base"
mkdir -p "$work/node-base/extra-ca"
cp /usr/local/share/ca-certificates/*.crt "$work/node-base/extra-ca/" 2>/dev/null || true
"$HOIST" build -t node:bookworm-local "$work/node-base"

say "building examples/node (npm install reaches the registry from inside the RUN)"
rm -rf "$work/node" && cp -r examples/node "$work/node"
"$HOIST" build -t node-demo:latest "$work/node"

say "running node-demo:latest"
"$HOIST" run --rm node-demo:latest

say "editing server.js and rebuilding: npm install comes from the cache"
sed -i 's/const answer = 42;/const answer = 43;/' "$work/node/server.js"
"$HOIST" build -t node-demo:latest "$work/node"
"$HOIST" run --rm node-demo:latest
