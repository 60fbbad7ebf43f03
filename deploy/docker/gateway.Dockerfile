# Image of the gateway: the C process plus the built web front end (web/dist) it serves.
# Build context is the repository root (see docker-compose.yml).
ARG CRM_UID=10100

FROM debian:12 AS build
COPY deploy/docker/deps.sh /usr/local/sbin/crm-deps
RUN crm-deps build
WORKDIR /src
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCRM_TESTS=OFF \
 && cmake --build build -j"$(nproc)" --target crm-gateway \
 && install -D -m 755 build/gateway/crm-gateway /out/crm-gateway

FROM node:20-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
# the dashboard's list of services is read from shared/services.def at build time, the
# operation log's modules and actions from shared/routes.def
COPY shared/services.def shared/services.mjs shared/routes.def /src/shared/
COPY web/ ./
RUN npm run build

FROM debian:12-slim
ARG CRM_UID
COPY deploy/docker/deps.sh /usr/local/sbin/crm-deps
RUN crm-deps runtime \
 && useradd --system --uid ${CRM_UID} --user-group --no-create-home --shell /usr/sbin/nologin crm-gateway
COPY --from=build /out/crm-gateway /usr/local/bin/
COPY --from=web /src/web/dist /usr/local/share/crm/web
COPY deploy/docker/gateway.conf /etc/crm/gateway.conf
ENV CRM_LISTEN=0.0.0.0:8080
USER ${CRM_UID}:${CRM_UID}
EXPOSE 8080 8443
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS -o /dev/null "http://127.0.0.1:${CRM_LISTEN##*:}/healthz" || exit 1
ENTRYPOINT ["/usr/local/bin/crm-gateway", "--config", "/etc/crm/gateway.conf"]
