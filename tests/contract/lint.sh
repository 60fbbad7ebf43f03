#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Lint the API contracts (proto-docs/openapi.yaml, proto-docs/asyncapi.yaml) with spectral.
# Fails on any error or warning. Needs `cd tests && npm ci` first.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
spectral="$top/tests/node_modules/.bin/spectral"

if [ ! -x "$spectral" ]; then
    echo "lint.sh: $spectral is missing; run 'cd tests && npm ci' first" >&2
    exit 2
fi

cd "$top"
exec "$spectral" lint \
    --ruleset tests/contract/.spectral.yaml \
    --fail-severity warn \
    --format stylish \
    proto-docs/openapi.yaml proto-docs/asyncapi.yaml
