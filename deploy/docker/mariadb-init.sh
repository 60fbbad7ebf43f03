#!/bin/bash
# mariadb-init.sh — mounted into /docker-entrypoint-initdb.d of the mariadb container; runs once,
# when the data volume is first initialised. Creates one schema per service of shared/services.def
# (utf8mb4) and one user per service with ALL on its own schema only, allowed from the private
# network only.
# Passwords come from CRM_DB_PASSWORD_<SVC> (docker-compose.yml); changing them later needs an
# ALTER USER by hand (see deploy/README.md), because this script does not run again.
# Sourced by the entrypoint: keep its shell options, define everything inside one function.

# The official entrypoint sources this file and provides docker_process_sql; fall back to the
# client over the socket when the file is executed on its own.
if ! declare -F docker_process_sql >/dev/null; then
    docker_process_sql() { MYSQL_PWD=$MARIADB_ROOT_PASSWORD mariadb --protocol=socket -uroot; }
fi

crm_sql_quote() { # 'text' with \ and ' escaped
    local v=${1//\\/\\\\}
    printf "'%s'" "${v//\'/\'\'}"
}

crm_init_databases() {
    local svc var grant net=${CRM_DB_CLIENT_HOSTS:-172.28.0.%} def=/etc/crm/services.def
    local -a services
    # the services: the lines of shared/services.def (mounted by docker-compose.yml)
    mapfile -t services < <(sed -nE 's/^SERVICE\(([a-z][a-z0-9_]*),.*/\1/p' "$def" 2>/dev/null)
    if ((${#services[@]} == 0)); then
        echo "mariadb-init: no SERVICE lines in $def" >&2
        return 1
    fi
    for svc in "${services[@]}"; do
        # the audit log is append-only: its user never gets UPDATE, DELETE or DROP
        grant=ALL
        [[ $svc == audit ]] && grant='SELECT, INSERT, CREATE, ALTER, INDEX, REFERENCES'
        var=CRM_DB_PASSWORD_${svc^^}
        if [[ -z ${!var:-} ]]; then
            echo "mariadb-init: $var is not set" >&2
            return 1
        fi
        docker_process_sql <<SQL || return 1
CREATE DATABASE IF NOT EXISTS crm_$svc CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'crm_$svc'@'$net' IDENTIFIED BY $(crm_sql_quote "${!var}");
GRANT $grant ON crm_$svc.* TO 'crm_$svc'@'$net';
SQL
        echo "mariadb-init: schema and user crm_$svc ready"
    done
}

crm_init_databases || exit 1
