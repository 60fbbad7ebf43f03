#!/bin/sh
# deps.sh build|runtime|init — install the Debian packages a container image stage needs.
# One list for all images, so the Dockerfiles stay short and never disagree.
set -eu
case "${1:-}" in
build)
    pkgs="build-essential cmake pkg-config libevent-dev libhiredis-dev libmariadb-dev
          libjansson-dev libjwt-dev libssl-dev libargon2-dev zlib1g-dev"
    ;;
runtime)
    # Shared libraries of the C processes, plus curl for the HEALTHCHECK.
    pkgs="libevent-2.1-7 libevent-openssl-2.1-7 libevent-pthreads-2.1-7 libhiredis0.14 libmariadb3
          libjansson4 libjwt0 libssl3 libargon2-1 zlib1g curl ca-certificates"
    ;;
init) pkgs="openssl" ;;
*)
    echo "usage: $0 build|runtime|init" >&2
    exit 2
    ;;
esac
apt-get update -q
# shellcheck disable=SC2086 # the list is meant to split
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pkgs
rm -rf /var/lib/apt/lists/*
