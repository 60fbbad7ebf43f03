#!/bin/sh
# init.sh — one-shot set-up run by the `init` service of docker-compose.yml before anything else:
#   * /run/crm/secrets/db_<svc>: each service's database password (from CRM_DB_PASSWORD_<SVC>),
#     readable only by that service's user; admin_password (CRM_ADMIN_PASSWORD) for auth;
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

for entry in $services; do
    svc=${entry%%:*}
    uid=$(uid_of "$svc")
    var=CRM_DB_PASSWORD_$(echo "$svc" | tr "[:lower:]" "[:upper:]")
    eval "pw=\${$var:-}"
    [ -n "$pw" ] || { echo "init: $var is not set" >&2; exit 1; }
    printf '%s\n' "$pw" >"$secrets/db_$svc.tmp"
    chown "$uid:$uid" "$secrets/db_$svc.tmp"
    chmod 400 "$secrets/db_$svc.tmp"
    mv "$secrets/db_$svc.tmp" "$secrets/db_$svc"
done
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
