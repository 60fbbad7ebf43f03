# One-shot set-up container of docker-compose.yml (see init.sh): password files, JWT keys, TLS.
FROM debian:12-slim
COPY deploy/docker/deps.sh /usr/local/sbin/crm-deps
RUN crm-deps init
COPY deploy/docker/init.sh /usr/local/bin/crm-init
COPY deploy/redis-acl /usr/local/bin/crm-redis-acl
# the services whose password files init.sh writes, and their ports (which give their uids)
COPY shared/services.def /usr/local/share/crm/services.def
ENTRYPOINT ["/bin/sh", "/usr/local/bin/crm-init"]
