#!/usr/bin/env python3
"""hostnet.py < MERGED > FILE: the docker-compose configuration MERGED (the YAML of
`docker-compose -f docker-compose.yml -f tests/deploy/compose.hostnet.yml config`) with every
container on the host network: `network_mode: host` for each service, its `networks` and
`ports` dropped (host networking has neither), and no network defined. Printed as JSON, which
docker-compose reads as YAML. Used by tests/deploy/compose.sh; python3-yaml comes with
docker-compose."""
import json
import sys

import yaml

config = yaml.safe_load(sys.stdin)
for name, service in config.get("services", {}).items():
    if service.get("network_mode") == "none":
        continue  # init: no network at all, which is already none of the host's
    service.pop("networks", None)
    service.pop("ports", None)
    service["network_mode"] = "host"
config.pop("networks", None)
json.dump(config, sys.stdout, indent=1, sort_keys=True)
print()
