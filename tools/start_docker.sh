#!/bin/sh
# Start containerd and dockerd for recording compat fixtures and running the
# benchmark (no bridge, no iptables: builds use --network=host). Idempotent.
# Logs: /var/log/hoist-containerd.log, /var/log/hoist-dockerd.log
set -eu
if /usr/bin/docker info >/dev/null 2>&1; then
    echo "dockerd already running"
    exit 0
fi
if ! pgrep -x containerd >/dev/null; then
    nohup containerd >/var/log/hoist-containerd.log 2>&1 &
    sleep 2
fi
nohup dockerd --bridge=none --iptables=false --ip6tables=false \
    --containerd=/run/containerd/containerd.sock \
    >/var/log/hoist-dockerd.log 2>&1 &
i=0
until /usr/bin/docker info >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 60 ]; then
        echo "dockerd did not start; see /var/log/hoist-dockerd.log" >&2
        exit 1
    fi
    sleep 1
done
echo "dockerd running"
