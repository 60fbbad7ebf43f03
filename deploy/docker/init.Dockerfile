# One-shot set-up container of docker-compose.yml (see init.sh): password files, JWT keys, TLS.
FROM debian:12-slim
COPY deploy/docker/deps.sh /usr/local/sbin/crm-deps
RUN crm-deps init
COPY deploy/docker/init.sh /usr/local/bin/crm-init
ENTRYPOINT ["/bin/sh", "/usr/local/bin/crm-init"]
