#!/bin/sh
# init.sh — one-shot set-up run by the `init` service of docker-compose.yml before anything else:
#   * /run/crm/secrets/db_<svc> and db_<svc>_migrate: each service's database passwords (from
#     CRM_DB_PASSWORD_<SVC> and CRM_DB_MIGRATE_PASSWORD_<SVC>), readable only by that service's
#     user; admin_password (CRM_ADMIN_PASSWORD) for auth; audit_chain_key (made once) for audit;
#     redis_<name> and redis_crm_admin (made once) and redis_users.acl, Redis's ACL file;
#   * /run/crm/secrets/gateway_proof: 32 random bytes (hex), made once: the gateway signs what it
#     forwards with it and the services believe the client address and request id only with
#     that proof (proxy_secret_file); readable by every C process, the only mounters of the volume;
#   * /var/lib/crm/keys: one ES256 key pair (kid k<UTC time>) unless the volume has a public key
#     already; the private key is readable only by auth, which signs the tokens;
#   * /var/lib/crm/tls: a self-signed certificate for CRM_TLS_HOSTNAME unless one is there
#     (put your own cert.pem/key.pem into the crm-tls volume to replace it).
# The services are the lines of shared/services.def (copied into this image). Their uids are
# those of deploy/docker/service.Dockerfile, 3000 + the service's port; the gateway's is 10100.
set -eu
umask 077

secrets=/run/crm/secrets keys=/var/lib/crm/keys tls=/var/lib/crm/tls
def=/usr/local/share/crm/services.def
# name:port, one a service
services=$(sed -nE 's/^SERVICE\(([a-z][a-z0-9_]*), *([0-9]+),.*/\1:\2/p' "$def")
[ -n "$services" ] || { echo "init: no SERVICE lines in $def" >&2; exit 1; }
uid_of() {
    [ "$1" = gateway ] && { echo 10100; return 0; }
    for entry in $services; do
        [ "${entry%%:*}" = "$1" ] && { echo $((3000 + ${entry#*:})); return 0; }
    done
    echo "init: $1 is not a service of $def" >&2
    return 1
}

# put_secret FILE UID VALUE: VALUE (and a newline) in $secrets/FILE, readable by UID only.
put_secret() {
    printf '%s\n' "$3" >"$secrets/$1.tmp"
    chown "$2:$2" "$secrets/$1.tmp"
    chmod 400 "$secrets/$1.tmp"
    mv "$secrets/$1.tmp" "$secrets/$1"
}
for entry in $services; do
    svc=${entry%%:*}
    uid=$(uid_of "$svc")
    up=$(echo "$svc" | tr "[:lower:]" "[:upper:]")
    # db_<svc>: the running service's user (data only); db_<svc>_migrate: its migrations' user
    for var in CRM_DB_PASSWORD_$up CRM_DB_MIGRATE_PASSWORD_$up; do
        eval "pw=\${$var:-}"
        [ -n "$pw" ] || { echo "init: $var is not set" >&2; exit 1; }
        case $var in
        CRM_DB_MIGRATE_*) put_secret "db_${svc}_migrate" "$uid" "$pw" ;;
        *) put_secret "db_$svc" "$uid" "$pw" ;;
        esac
    done
done
# The audit chain's HMAC key: made once, kept with the volume, readable by audit only (a key
# made anew would not verify the entries chained with the old one).
if [ ! -s "$secrets/audit_chain_key" ]; then
    echo "init: creating the audit chain key"
    put_secret audit_chain_key "$(uid_of audit)" "$(openssl rand -hex 32)"
fi
# Redis: a password per process and one for crm_admin (the healthcheck), each made once and kept
# with the volume (Redis reads them from the ACL file at its start), and the ACL file itself.
redis_uid=999 # the redis user of the official redis image
for name in $(for entry in $services; do echo "${entry%%:*}"; done) gateway; do
    [ -s "$secrets/redis_$name" ] || put_secret "redis_$name" "$(uid_of "$name")" "$(openssl rand -hex 24)"
done
[ -s "$secrets/redis_crm_admin" ] || put_secret redis_crm_admin "$redis_uid" "$(openssl rand -hex 24)"
crm-redis-acl "$def" "$secrets" >"$secrets/redis_users.acl.tmp"
chown "$redis_uid:$redis_uid" "$secrets/redis_users.acl.tmp"
chmod 400 "$secrets/redis_users.acl.tmp"
mv "$secrets/redis_users.acl.tmp" "$secrets/redis_users.acl"
# The first administrator's password: auth creates the user admin with it when it has none.
[ -n "${CRM_ADMIN_PASSWORD:-}" ] || { echo "init: CRM_ADMIN_PASSWORD is not set" >&2; exit 1; }
auth_uid=$(uid_of auth)
printf '%s' "$CRM_ADMIN_PASSWORD" >"$secrets/admin_password.tmp"
chown "$auth_uid:$auth_uid" "$secrets/admin_password.tmp"
chmod 400 "$secrets/admin_password.tmp"
mv "$secrets/admin_password.tmp" "$secrets/admin_password"
if [ ! -s "$secrets/gateway_proof" ]; then
    openssl rand -hex 32 >"$secrets/gateway_proof.tmp"
    mv "$secrets/gateway_proof.tmp" "$secrets/gateway_proof"
fi
chmod 444 "$secrets/gateway_proof"
chmod 755 "$secrets"

if ! ls "$keys"/*.pub.pem >/dev/null 2>&1; then
    kid=k$(date -u +%Y%m%dT%H%M%S)
    echo "init: creating JWT signing key $kid"
    openssl ecparam -name prime256v1 -genkey -noout |
        openssl pkcs8 -topk8 -nocrypt -out "$keys/$kid.key.pem"
    openssl ec -in "$keys/$kid.key.pem" -pubout -out "$keys/$kid.pub.pem" 2>/dev/null
fi
for f in "$keys"/*.key.pem; do
    [ -f "$f" ] && chown "$auth_uid" "$f" && chmod 400 "$f"
done
chmod 644 "$keys"/*.pub.pem
chmod 755 "$keys"

if [ ! -s "$tls/cert.pem" ] || [ ! -s "$tls/key.pem" ]; then
    host=${CRM_TLS_HOSTNAME:-localhost}
    echo "init: creating a self-signed TLS certificate for $host"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 825 -nodes \
        -keyout "$tls/key.pem" -out "$tls/cert.pem" -subj "/CN=$host" \
        -addext "subjectAltName=DNS:$host,DNS:localhost,IP:127.0.0.1" 2>/dev/null
fi
chown "$(uid_of gateway)" "$tls/key.pem"
chmod 400 "$tls/key.pem"
chmod 644 "$tls/cert.pem"
chmod 755 "$tls"
echo "init: done"
