#!/usr/bin/env bash
# tests/deploy/compose.sh — the docker-compose drill: build every image of docker-compose.yml
# from Debian alone, run the whole suite in containers and smoke-test it, on a Docker engine of
# its own that makes no network. Run by `deploy/crm test` after the rest of the suite; alone:
# `tests/deploy/compose.sh` (as root). Prints one "ok   <check>" / "FAIL <check>" line per check,
# the image sizes and the times, and exits 1 when a check failed.
#
#   1. dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false, with its data
#      root, exec root and socket under .run/drill/ (sockets under /tmp/crm-drill-<hash>/ when
#      the path is too long), stopped at the end whatever happens.
#   2. The base images debian:12 and debian:12-slim, for this engine only: debootstrap
#      --variant=minbase bookworm from the Debian archive, then docker import; the tarball is
#      cached in .run/drill-cache/ between runs (no registry is reachable here).
#   3. docker-compose build of docker-compose.yml + tests/deploy/compose.hostnet.yml (every
#      image with the host network), then up, every container on the host network on loopback
#      ports of the drill's own (DRILL_PORT_OFFSET, default 5000, plus the dev stack's ports).
#   4. tests/deploy/smoke.mjs: the console loads, admin logs in, a customer manager (from the
#      demo data, loaded with deploy/demo/load) creates a customer, the audit log shows it;
#      the customer service's process killed is followed by its restart and a working API (and
#      `docker kill`, which no restart policy undoes, by `up`); `down` then `up` keeps the data.
#   5. `ip -4 addr` and `ip link` before, during and after are the same.
# The Docker engine's data root (images, build cache) is kept in .run/drill/docker between runs
# (a second run builds from cache); CRM_DRILL_FRESH=1 removes it first. The named volumes are
# removed at the end: every run starts with empty data.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
D=$REPO/.run/drill
CACHE=$REPO/.run/drill-cache
PROJECT=crmdrill
OFFSET=${DRILL_PORT_OFFSET:-5000}
MIRROR=${CRM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
T0=$SECONDS
FAILED=0 PASSED=0

ok() {
    echo "ok   $*"
    PASSED=$((PASSED + 1))
}
fail() {
    echo "FAIL $*"
    FAILED=$((FAILED + 1))
}
note() { printf '[drill %3ss] %s\n' $((SECONDS - T0)) "$*"; }

# Sockets: a unix socket path has at most 107 bytes (containerd's are deep under the exec root).
S=$D/s
if ((${#S} > 40)); then
    S=/tmp/crm-drill-$(printf '%s' "$D" | sha256sum | cut -c1-12)
fi
# unmount_engine: nothing of an engine may stay mounted (overlays, the network namespace file),
# or removing .run fails
unmount_engine() {
    local dir
    for dir in "$D/" "$S/"; do
        grep -F " $dir" /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    done
}
if [[ ${CRM_DRILL_FRESH:-0} == 1 ]]; then
    unmount_engine
    rm -rf "$D" "$S"
fi
mkdir -p "$D" "$CACHE" "$S"
export DOCKER_HOST=unix://$S/docker.sock
# compose builds with the docker CLI and BuildKit (the stages in parallel, only those an image
# needs: a fresh build takes a third of the classic builder's time). Debian's docker CLI (20.10)
# has BuildKit built in; a newer CLI elsewhere on the PATH would need the buildx plugin.
export COMPOSE_DOCKER_CLI_BUILD=1 DOCKER_BUILDKIT=1 BUILDKIT_PROGRESS=plain
PATH=/usr/bin:$PATH

# the loopback ports of the drill: the dev stack's (deploy/crm) plus OFFSET
declare -A PORT
while read -r name port; do PORT[$name]=$((port + OFFSET)); done < <(sed -nE 's/^SERVICE\(([a-z][a-z0-9_]*), *([0-9]+),.*/\1 \2/p' shared/services.def)
export DRILL_DB_PORT=$((3307 + OFFSET)) DRILL_REDIS_PORT=$((6380 + OFFSET))
export DRILL_GW_PORT=$((8080 + OFFSET)) DRILL_GW_TLS_PORT=$((8443 + OFFSET)) DRILL_GW_ADMIN_PORT=$((9180 + OFFSET))
for name in "${!PORT[@]}"; do export "DRILL_PORT_${name^^}=${PORT[$name]}"; done
GATEWAY=http://127.0.0.1:$DRILL_GW_PORT
# the local certificate authorities (a TLS-inspecting egress proxy's): the web stage's downloads
# trust them (CRM_BUILD_CA); none on most machines
DRILL_BUILD_CA=$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true)
export DRILL_BUILD_CA

netstate() { # the machine's interfaces and IPv4 addresses, without counters and lifetimes
    ip -o link
    ip -4 -o addr | sed -E 's/\\ +valid_lft.*//'
}
netstate >"$D/net.before"

compose() { docker-compose -p $PROJECT -f "$D/compose.json" --env-file "$D/compose.env" "$@"; }

cleanup() {
    local rc=$?
    set +e
    if [[ -S $S/docker.sock ]]; then
        note "removing the containers and volumes"
        [[ -f $D/compose.json ]] && compose down -v --remove-orphans >>"$D/compose.log" 2>&1
    fi
    if [[ -f $S/docker.pid ]]; then
        note "stopping the Docker engine"
        kill "$(cat "$S/docker.pid")" 2>/dev/null
        for _ in $(seq 1 60); do
            if [[ ! -f $S/docker.pid ]] || ! kill -0 "$(cat "$S/docker.pid" 2>/dev/null)" 2>/dev/null; then break; fi
            sleep 0.5
        done
        if [[ -f $S/docker.pid ]] && kill -0 "$(cat "$S/docker.pid")" 2>/dev/null; then
            kill -9 "$(cat "$S/docker.pid")"
        fi
        rm -f "$S/docker.pid"
    fi
    unmount_engine
    netstate >"$D/net.after"
    if cmp -s "$D/net.before" "$D/net.after"; then
        ok "the machine's interfaces and addresses are as before the drill"
    else
        fail "the interfaces or addresses changed: $(diff "$D/net.before" "$D/net.after" | tr '\n' ' ')"
    fi
    note "drill took $((SECONDS - T0))s: $PASSED passed, $FAILED failed"
    ((FAILED == 0 && rc == 0)) || exit 1
}
trap cleanup EXIT

for cmd in dockerd docker docker-compose debootstrap python3 node ip; do
    command -v $cmd >/dev/null || { fail "$cmd is not installed (deploy/crm installs it)"; exit 1; }
done

# --- 1. the engine ----------------------------------------------------------------------------
if [[ -f $S/docker.pid ]] && kill -0 "$(cat "$S/docker.pid")" 2>/dev/null; then
    note "stopping the Docker engine a previous drill left running"
    kill "$(cat "$S/docker.pid")"
    sleep 3
fi
note "starting dockerd (no bridge, no iptables, no forwarding; data under ${D#"$REPO"/})"
dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false --ip6tables=false \
    --data-root "$D/docker" --exec-root "$S/exec" --pidfile "$S/docker.pid" -H "$DOCKER_HOST" \
    --log-level=warn >"$D/dockerd.log" 2>&1 &
for _ in $(seq 1 60); do docker version >/dev/null 2>&1 && break; sleep 0.5; done
docker version >/dev/null 2>&1 || { fail "dockerd did not start (${D#"$REPO"/}/dockerd.log)"; exit 1; }
ok "a Docker engine of the drill's own runs"

# --- 2. the base images -----------------------------------------------------------------------
# the name says what is in it: a change to what is made below needs a new name
base=$CACHE/debian-bookworm-minbase-slim1.tar
if [[ ! -s $base ]]; then
    t=$SECONDS
    note "making the base image with debootstrap from $MIRROR"
    root=$D/rootfs
    rm -rf "$root"
    debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$D/debootstrap.log" 2>&1
    # the sources of the real debian:12 image: the release, its updates and security updates
    rm -f "$root/etc/apt/sources.list"
    cat >"$root/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${CRM_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    # as the real slim image: no documentation, manual pages or translations, now or from the
    # packages installed later
    cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
SLIM
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
        "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*
    tar --numeric-owner -C "$root" -cf "$base.tmp" .
    mv "$base.tmp" "$base"
    rm -rf "$root"
    note "base image made in $((SECONDS - t))s"
fi
# imported once per tarball (an import makes a new image id, which would void the build cache)
if [[ $(docker image inspect -f '{{index .Config.Labels "crm.base"}}' debian:12 2>/dev/null) != "${base##*/}" ]]; then
    docker import -c "LABEL crm.base=${base##*/}" "$base" debian:12 >/dev/null
fi
docker tag debian:12 debian:12-slim
ok "base images debian:12 and debian:12-slim from debootstrap ($(du -h "$base" | cut -f1) tarball)"

# --- 3. build and start -----------------------------------------------------------------------
rm -f "$D/compose.env"
deploy/docker/make-env "$D/compose.env" >/dev/null
docker-compose -p $PROJECT -f docker-compose.yml -f tests/deploy/compose.hostnet.yml \
    --env-file "$D/compose.env" config >"$D/compose.merged.yml"
python3 tests/deploy/hostnet.py <"$D/compose.merged.yml" >"$D/compose.json"
t=$SECONDS
fresh=cached
docker image inspect crm-gateway:latest >/dev/null 2>&1 || fresh=fresh
note "building the images ($fresh build; log ${D#"$REPO"/}/build.log)"
if compose build >"$D/build.log" 2>&1; then
    BUILD_S=$((SECONDS - t))
    steps=$(grep -cE '^#[0-9]+ (DONE|CACHED)' "$D/build.log" || true)
    cached=$(grep -cE '^#[0-9]+ CACHED' "$D/build.log" || true)
    ok "every image built ($fresh build, ${BUILD_S}s; $cached of $steps steps from the cache)"
else
    fail "docker-compose build (tail of ${D#"$REPO"/}/build.log below)"
    tail -n 30 "$D/build.log"
    exit 1
fi
# each image's size and what only it has (the rest is layers it shares with the others)
docker system df -v | awk '$1 ~ /^crm-/ { printf "%s %s (own %s)\n", $1, $(NF-3), $(NF-1) }' | sort >"$D/sizes"
note "image sizes: $(paste -sd, "$D/sizes" | sed 's/,/, /g')"

# wait_healthy SECONDS: until the gateway container is healthy; prints the seconds it took
wait_healthy() {
    local t=$SECONDS id
    while ((SECONDS - t < $1)); do
        id=$(compose ps -q gateway 2>/dev/null || true)
        if [[ -n $id && $(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null) == healthy ]]; then
            echo $((SECONDS - t))
            return 0
        fi
        sleep 1
    done
    return 1
}
up() {
    local t=$SECONDS
    compose up -d >>"$D/compose.log" 2>&1 || { tail -n 20 "$D/compose.log" >&2; return 1; }
    wait_healthy 240 >/dev/null || { compose ps >&2; return 1; }
    echo $((SECONDS - t))
}
if UP_S=$(up); then
    ok "docker-compose up: the gateway is healthy ${UP_S}s after up"
else
    fail "docker-compose up: no healthy gateway within 240 s (compose ps above, logs in ${D#"$REPO"/}/)"
    compose logs --no-color >"$D/containers.log" 2>&1
    exit 1
fi
netstate >"$D/net.during"
if cmp -s "$D/net.before" "$D/net.during"; then
    ok "with the suite running, the interfaces and addresses are as before"
else
    fail "the interfaces or addresses changed while the suite ran: $(diff "$D/net.before" "$D/net.during" | tr '\n' ' ')"
fi

# --- 4. smoke tests ---------------------------------------------------------------------------
export DRILL_GATEWAY=$GATEWAY DRILL_STATE=$D/state DRILL_CUSTOMER_FILE=$D/customer.json
rm -rf "$DRILL_STATE" && mkdir -p "$DRILL_STATE/secrets" && chmod 700 "$DRILL_STATE/secrets"
sed -n 's/^CRM_ADMIN_PASSWORD=//p' "$D/compose.env" >"$DRILL_STATE/secrets/admin_password"
smoke() {
    local out rc=0
    out=$(node tests/deploy/smoke.mjs "$1") || rc=1
    echo "$out"
    PASSED=$((PASSED + $(grep -c '^ok ' <<<"$out" || true)))
    FAILED=$((FAILED + $(grep -c '^FAIL ' <<<"$out" || true)))
    ((rc == 0 || $(grep -c '^FAIL ' <<<"$out" || true) > 0)) || fail "smoke.mjs $1 ended with an error"
}
if deploy/demo/load "$DRILL_STATE" "$GATEWAY" >"$D/demo.log" 2>&1; then
    ok "the demo data loads through the gateway (deploy/demo/load)"
else
    fail "deploy/demo/load (${D#"$REPO"/}/demo.log)"
    tail -n 5 "$D/demo.log"
fi
smoke first

# The customer service's process is killed (SIGKILL from the host, as a crash or the OOM killer
# would): its restart policy brings it back. (`docker kill` itself is, to Docker 20.10, stopping
# the container by hand, which no restart policy undoes: checked too, then `up` brings it back.)
cid=$(compose ps -q customer)
restarts=$(docker inspect -f '{{.RestartCount}}' "$cid")
kill -KILL "$(docker inspect -f '{{.State.Pid}}' "$cid")"
t=$SECONDS
back=0
while ((SECONDS - t < 90)); do
    if (($(docker inspect -f '{{.RestartCount}}' "$cid") > restarts)) &&
        [[ $(docker inspect -f '{{.State.Health.Status}}' "$cid") == healthy ]]; then
        back=1
        break
    fi
    sleep 1
done
if ((back)); then
    ok "the customer service's process killed (SIGKILL): restarted by Docker and healthy after $((SECONDS - t))s"
else
    fail "the killed customer service is not back and healthy after 90 s"
fi
smoke alive
docker kill "$cid" >/dev/null
t=$SECONDS
if compose up -d >>"$D/compose.log" 2>&1 && wait_healthy 120 >/dev/null &&
    [[ $(docker inspect -f '{{.State.Health.Status}}' "$cid") == healthy ]]; then
    ok "docker kill of the customer service, then up: healthy again after $((SECONDS - t))s"
else
    fail "docker kill of the customer service, then up: not healthy within 120 s"
fi
smoke alive

# down, then up: the named volumes keep the data
compose down >>"$D/compose.log" 2>&1
if UP2_S=$(up); then
    ok "down, then up: the gateway is healthy ${UP2_S}s after up"
    smoke kept
else
    fail "up after down: no healthy gateway within 240 s"
fi
compose logs --no-color >"$D/containers.log" 2>&1
note "times: build ${BUILD_S}s ($fresh), up to a healthy gateway ${UP_S}s (first), ${UP2_S:-?}s (again)"
