#!/bin/sh
# Put every tool's benchmark data on one journaled ext4 (a loop-mounted image file):
# /var/lib/hoist-bench (hoist's stores and the contexts), /var/lib/docker, /var/lib/containers
# (with buildah's run root /run/containers).
#
# Why: this machine's disk is ext4 without a journal, and there the inode allocator checks,
# and skips, every inode deleted in the last 60-360 s (bench/README.md); whichever build
# follows another tool's deletions pays for them. With a journal (any usual disk) the
# allocator never looks at deletion times.
#
#   tools/bench_fs.sh up [SIZE]   # SIZE of the sparse image on first use (default 40G)
#   tools/bench_fs.sh down        # back to the machine's own disk
#
# dockerd is restarted either way (tools/start_docker.sh). The image file stays, with what
# the tools stored in it, for the next `up`.
set -eu
IMG=/var/lib/hoist-bench.ext4
MNT=/var/lib/hoist-bench
BINDS="/var/lib/docker:docker /var/lib/containers:containers /run/containers:run-containers"

stop_docker() {
    pkill -x dockerd 2>/dev/null || true
    i=0
    while pgrep -x dockerd >/dev/null; do
        i=$((i + 1))
        [ "$i" -gt 30 ] && { echo "dockerd does not stop" >&2; exit 1; }
        sleep 1
    done
}

ours() { # is $1 a mount of our image?
    findmnt -n -o SOURCE --target "$1" 2>/dev/null | grep -q '^/dev/loop'
}

case "${1:-}" in
up)
    stop_docker
    if [ ! -f "$IMG" ]; then
        truncate -s "${2:-40G}" "$IMG"
        mkfs.ext4 -q -F -L hoist-bench "$IMG" # the default features include the journal
    fi
    mkdir -p "$MNT"
    ours "$MNT" || mount -o loop "$IMG" "$MNT"
    for pair in $BINDS; do
        target=${pair%%:*}
        mkdir -p "$MNT/.${pair##*:}" "$target"
        ours "$target" || mount --bind "$MNT/.${pair##*:}" "$target"
    done
    ;;
down)
    stop_docker
    for pair in $BINDS; do
        target=${pair%%:*}
        if ours "$target"; then umount "$target"; fi
    done
    if ours "$MNT"; then umount "$MNT"; fi
    ;;
*)
    echo "usage: $0 up [SIZE] | down" >&2
    exit 2
    ;;
esac
"$(dirname "$0")/start_docker.sh"
dumpe2fs -h "$(findmnt -n -o SOURCE --target "$MNT")" 2>/dev/null | grep -i '^Filesystem features' || true
