# Image of one service, built once per line of shared/services.def: docker-compose.yml passes
# the build arguments SERVICE (its name) and PORT (its port there), and the build stops when
# they are not a line of the table. The image runs crm-<SERVICE> as the user crm-<SERVICE> with
# uid 3000 + PORT (auth 7101 -> 10101; init.sh gives the password files to the same uids).
# Build context is the repository root (see docker-compose.yml).
ARG SERVICE
ARG PORT

FROM debian:12 AS build
ARG SERVICE
ARG PORT
COPY deploy/docker/deps.sh /usr/local/sbin/crm-deps
RUN crm-deps build
WORKDIR /src
COPY . .
RUN grep -Eq "^SERVICE\(${SERVICE:?build argument SERVICE is required}, *${PORT:?build argument PORT is required}," \
        shared/services.def \
 || { echo "SERVICE=${SERVICE} PORT=${PORT} is not a line of shared/services.def" >&2; exit 1; }
# /out is laid out as the image's root: binary, migrations, config, entry point
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCRM_TESTS=OFF \
 && cmake --build build -j"$(nproc)" --target "crm-${SERVICE}" \
 && install -D -m 755 "build/services/${SERVICE}/crm-${SERVICE}" "/out/usr/local/bin/crm-${SERVICE}" \
 && mkdir -p "/out/usr/local/share/crm/${SERVICE}" /out/etc/crm \
 && cp -r "services/${SERVICE}/migrations" "/out/usr/local/share/crm/${SERVICE}/migrations" \
 && sed "s/@NAME@/${SERVICE}/g" deploy/docker/service.conf.in >"/out/etc/crm/${SERVICE}.conf" \
 && printf '#!/bin/sh\nexec /usr/local/bin/crm-%s --config /etc/crm/%s.conf "$@"\n' \
        "${SERVICE}" "${SERVICE}" >/out/usr/local/bin/crm-service \
 && chmod 755 /out/usr/local/bin/crm-service
# auth only: its catalogue (permissions, menus, dictionary, common passwords)
RUN if [ "${SERVICE}" = auth ]; then \
        install -D -m 644 -t /out/usr/local/share/crm/auth/catalogue services/auth/permissions.tsv \
            services/auth/menus.tsv services/auth/dicts.tsv services/auth/common-passwords.txt \
     && echo "catalogue_dir = /usr/local/share/crm/auth/catalogue" >>/out/etc/crm/auth.conf; \
    fi

FROM debian:12-slim
ARG SERVICE
ARG PORT
COPY deploy/docker/deps.sh /usr/local/sbin/crm-deps
RUN crm-deps runtime \
 && useradd --system --uid "$((3000 + PORT))" --user-group --no-create-home \
        --shell /usr/sbin/nologin "crm-${SERVICE}"
COPY --from=build /out/ /
ENV CRM_LISTEN=0.0.0.0:${PORT}
USER crm-${SERVICE}:crm-${SERVICE}
EXPOSE ${PORT}
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS -o /dev/null "http://127.0.0.1:${CRM_LISTEN##*:}/healthz" || exit 1
# crm-service: exec crm-<SERVICE> --config /etc/crm/<SERVICE>.conf (written above)
ENTRYPOINT ["/usr/local/bin/crm-service"]
