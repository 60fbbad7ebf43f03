#!/bin/bash
# mariadb-init.sh — sourced by the mariadb image's entry point (mariadb-entrypoint) once, when the
# data volume is first initialised, on a server listening on a socket only. Creates one schema per service of shared/services.def
# (utf8mb4) and two users per service, allowed from the private network only: crm_<svc>_migrate
# with ALL on its own schema (migrations) and crm_<svc> with data rights only (the service).
# Passwords come from CRM_DB_PASSWORD_<SVC> and CRM_DB_MIGRATE_PASSWORD_<SVC> (docker-compose.yml); changing them later needs an
# ALTER USER by hand (see deploy/README.md), because this script does not run again.
# Sourced: keep the caller's shell options, define everything inside functions; the status of
# the last line is the status of the set-up.

# The entry point provides docker_process_sql (SQL on stdin, to its set-up server); fall back to
# the client over the default socket when the file is run on its own.
if ! declare -F docker_process_sql >/dev/null; then
    docker_process_sql() { mariadb --protocol=socket; }
fi

crm_sql_quote() { # 'text' with \ and ' escaped
    local v=${1//\\/\\\\}
    printf "'%s'" "${v//\'/\'\'}"
}

crm_init_databases() {
    local svc var grant net=${CRM_DB_CLIENT_HOSTS:-172.28.0.%} def=/usr/local/share/crm/services.def
    local -a services
    # the services: the lines of shared/services.def (copied into the image)
    mapfile -t services < <(sed -nE 's/^SERVICE\(([a-z][a-z0-9_]*),.*/\1/p' "$def" 2>/dev/null)
    if ((${#services[@]} == 0)); then
        echo "mariadb-init: no SERVICE lines in $def" >&2
        return 1
    fi
    for svc in "${services[@]}"; do
        # the running service's user has data rights only (no CREATE, ALTER, DROP); the audit
        # log is append-only: its user may only read and insert. Migrations run as
        # crm_<svc>_migrate, which has every right on the schema.
        grant='SELECT, INSERT, UPDATE, DELETE'
        [[ $svc == audit ]] && grant='SELECT, INSERT'
        var=CRM_DB_PASSWORD_${svc^^} mvar=CRM_DB_MIGRATE_PASSWORD_${svc^^}
        if [[ -z ${!var:-} || -z ${!mvar:-} ]]; then
            echo "mariadb-init: $var or $mvar is not set" >&2
            return 1
        fi
        docker_process_sql <<SQL || return 1
CREATE DATABASE IF NOT EXISTS crm_$svc CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'crm_${svc}_migrate'@'$net' IDENTIFIED BY $(crm_sql_quote "${!mvar}");
GRANT ALL ON crm_$svc.* TO 'crm_${svc}_migrate'@'$net';
CREATE USER IF NOT EXISTS 'crm_$svc'@'$net' IDENTIFIED BY $(crm_sql_quote "${!var}");
GRANT $grant ON crm_$svc.* TO 'crm_$svc'@'$net';
SQL
        echo "mariadb-init: schema crm_$svc, users crm_$svc and crm_${svc}_migrate ready"
    done
}

crm_init_databases
