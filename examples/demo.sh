#!/usr/bin/env bash
# Interim demo (until the build engine lands): make a busybox image from Debian's
# busybox-static, import it into a hoist store, list it, save it and load it back.
set -euo pipefail
cd "$(dirname "$0")/.."
HOIST=".venv/bin/hoist"
PY=".venv/bin/python"
export HOIST_ROOT="${HOIST_ROOT:-$PWD/.hoist-demo/store}"
work="$PWD/.hoist-demo"
mkdir -p "$work"

echo "== making a rootfs tarball from /bin/busybox"
"$PY" -c 'import sys; from pathlib import Path; from hoist.testing.busybox import busybox_tar; busybox_tar(Path(sys.argv[1]))' "$work/busybox-rootfs.tar"

echo "== hoist import (store: $HOIST_ROOT)"
"$HOIST" import -c 'CMD ["sh"]' -m "busybox from the host" "$work/busybox-rootfs.tar" busybox:local

echo "== hoist images"
"$HOIST" images

echo "== hoist history busybox:local"
"$HOIST" history busybox:local

echo "== hoist save / load round trip"
"$HOIST" save -o "$work/busybox.tar" busybox:local
HOIST_ROOT="$work/other-store" "$HOIST" load -i "$work/busybox.tar"
HOIST_ROOT="$work/other-store" "$HOIST" images

if command -v skopeo >/dev/null; then
  echo "== skopeo reads the store directly (it is an OCI image layout)"
  skopeo inspect "oci:$HOIST_ROOT:docker.io/library/busybox:local" | head -n 12
fi

echo "== hoist fsck"
"$HOIST" fsck
