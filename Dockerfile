# credshare's production image (docs/deploy.md). Written, not run here: the machine this was
# built on has no Docker engine, so this file has never been built.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CREDSHARE_VAR_DIR=/var/lib/credshare \
    CREDSHARE_KEY_DIR=/var/lib/credshare/keys \
    CREDSHARE_MEDIA_ROOT=/var/lib/credshare/media \
    CREDSHARE_WEB_BIND=0.0.0.0:8000 \
    CREDSHARE_WEB_PORT=8000

RUN groupadd --system credshare \
    && useradd --system --gid credshare --home-dir /var/lib/credshare --shell /usr/sbin/nologin credshare

WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY credshare ./credshare
RUN pip install -c constraints.txt . \
    && rm -rf /src

# Static files and the compiled French catalog are built into the image (the demo profile is
# enough for these two commands; nothing connects to a database).
WORKDIR /var/lib/credshare
RUN credshare manage compiletranslations \
    && credshare manage collectstatic --noinput \
    && mkdir -p keys media \
    && chown -R credshare:credshare /var/lib/credshare \
    && chmod 0700 keys

USER credshare
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["credshare", "healthcheck"]
CMD ["credshare", "web"]
