#!/usr/bin/env bash
# `make demo-node`: the classic Node.js shape on a Debian base made with debootstrap.
# The base (bookworm minbase + nodejs + npm) is made once and kept in .hoist-demo/.
set -euo pipefail
cd "$(dirname "$0")/../.."
HOIST="$PWD/.venv/bin/hoist"
work="$PWD/.hoist-demo"
export HOIST_ROOT="${HOIST_ROOT:-$work/store}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$work"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if ! "$HOIST" inspect debian:bookworm-local >/dev/null 2>&1; then
  if [ ! -s "$work/bookworm-node.tar" ]; then
    say "debootstrap --variant=minbase bookworm (with nodejs and npm) from $MIRROR"
    rm -rf "$work/rootfs"
    debootstrap --variant=minbase --include=nodejs,npm,ca-certificates bookworm "$work/rootfs" "$MIRROR"
    rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
    tar -C "$work/rootfs" --numeric-owner -cf "$work/bookworm-node.tar.tmp" .
    mv "$work/bookworm-node.tar.tmp" "$work/bookworm-node.tar"
    rm -rf "$work/rootfs"
  fi
  say "hoist import: debian:bookworm-local"
  "$HOIST" import -c 'CMD ["bash"]' "$work/bookworm-node.tar" debian:bookworm-local
fi

say "building examples/node (npm install reaches the registry from inside the RUN)"
rm -rf "$work/node" && cp -r examples/node "$work/node"
"$HOIST" build -t node-demo:latest "$work/node"

say "running node-demo:latest"
"$HOIST" run --rm node-demo:latest

say "editing server.js and rebuilding: npm install comes from the cache"
sed -i 's/const answer = 42;/const answer = 43;/' "$work/node/server.js"
"$HOIST" build -t node-demo:latest "$work/node"
"$HOIST" run --rm node-demo:latest
