#!/bin/sh
echo "$GREETING: running as $(id -un) in $(pwd) on $(uname -s)"
echo "files: $(ls | tr '\n' ' ')"
