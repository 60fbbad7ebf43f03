# Image of the auth service. The five service Dockerfiles differ only in the three ARG defaults
# and the ENTRYPOINT line (and auth's catalogue); build context is the repository root (see docker-compose.yml).
ARG CRM_NAME=auth
ARG CRM_PORT=7101
ARG CRM_UID=10101

FROM debian:12 AS build
ARG CRM_NAME
COPY deploy/docker/deps.sh /usr/local/sbin/crm-deps
RUN crm-deps build
WORKDIR /src
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCRM_TESTS=OFF \
 && cmake --build build -j"$(nproc)" --target crm-${CRM_NAME} \
 && install -D -m 755 build/services/${CRM_NAME}/crm-${CRM_NAME} /out/crm-${CRM_NAME}

FROM debian:12-slim
ARG CRM_NAME
ARG CRM_PORT
ARG CRM_UID
COPY deploy/docker/deps.sh /usr/local/sbin/crm-deps
RUN crm-deps runtime \
 && useradd --system --uid ${CRM_UID} --user-group --no-create-home --shell /usr/sbin/nologin crm-${CRM_NAME}
COPY --from=build /out/crm-${CRM_NAME} /usr/local/bin/
COPY services/${CRM_NAME}/migrations /usr/local/share/crm/${CRM_NAME}/migrations
COPY deploy/docker/service.conf.in /etc/crm/service.conf.in
RUN sed "s/@NAME@/${CRM_NAME}/g" /etc/crm/service.conf.in >/etc/crm/${CRM_NAME}.conf \
 && rm /etc/crm/service.conf.in
# auth only: its catalogue (permissions, menus, dictionary, common passwords)
COPY services/auth/permissions.tsv services/auth/menus.tsv services/auth/dicts.tsv \
     services/auth/common-passwords.txt /usr/local/share/crm/auth/catalogue/
RUN echo "catalogue_dir = /usr/local/share/crm/auth/catalogue" >>/etc/crm/auth.conf
ENV CRM_LISTEN=0.0.0.0:${CRM_PORT}
USER ${CRM_UID}:${CRM_UID}
EXPOSE ${CRM_PORT}
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS -o /dev/null "http://127.0.0.1:${CRM_LISTEN##*:}/healthz" || exit 1
ENTRYPOINT ["/usr/local/bin/crm-auth", "--config", "/etc/crm/auth.conf"]
