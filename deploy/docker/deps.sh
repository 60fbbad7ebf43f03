#!/bin/sh
# deps.sh build|runtime|init|web|mariadb|redis — install the Debian packages a stage of the
# Dockerfile needs. One list for all images, so the stages stay short and never disagree.
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
# node.sh fetches Node.js and npm from the npm registry with curl
web) pkgs="curl ca-certificates openssl" ;;
# the versions the local stack runs (Debian 12's); the client for the entry point's set-up
mariadb) pkgs="mariadb-server mariadb-client" ;;
redis) pkgs="redis-server redis-tools" ;;
*)
    echo "usage: $0 build|runtime|init|web|mariadb|redis" >&2
    exit 2
    ;;
esac
# a package's maintainer scripts must not start its daemon in the image (there is no init)
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
apt-get update -q
# shellcheck disable=SC2086 # the list is meant to split
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pkgs
rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /usr/sbin/policy-rc.d
