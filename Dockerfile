# ALP Guard: gunicorn with the project's config (gunicorn.conf.py), as a non-root user.
# Standalone: docker build -t alp-guard . && docker run -p 8080:8080 -e CDS_AUTH_MODE=none alp-guard
# (SQLite store on the /data volume). docker-compose.yml runs it with PostgreSQL, HAPI FHIR and demo patients.
# The base image by digest (python:3.11-slim), so a rebuild gets the same system; move it on deliberately
# (docker buildx imagetools inspect python:3.11-slim).
FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CDS_HOST=0.0.0.0 CDS_PORT=8080 CDS_DATABASE_URL=sqlite:////data/alp_guard.sqlite3

WORKDIR /app
# Every package, dependencies included, pinned with its hash: pip refuses any file that does not match.
COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
# Only what the service runs: tests/test_compose.py starts the CMD below from a folder holding just these.
COPY cds_service ./cds_service
COPY hooks ./hooks
COPY cards ./cards
COPY gunicorn.conf.py .

RUN useradd --system --uid 10001 --no-create-home alpguard && mkdir /data && chown alpguard /data
USER alpguard
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CDS_PORT', '8080'), timeout=2)"
CMD ["gunicorn", "--config", "gunicorn.conf.py", "cds_service.wsgi:app"]
