FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    CDS_HOST=0.0.0.0 CDS_PORT=8080 CDS_DATABASE_URL=sqlite:////data/alp_guard.sqlite3

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY cds_service ./cds_service
COPY hooks ./hooks
COPY cards ./cards
COPY gunicorn.conf.py .

RUN useradd --system --uid 10001 alpguard && mkdir /data && chown alpguard /data
USER alpguard
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"
CMD ["gunicorn", "--config", "gunicorn.conf.py", "cds_service.wsgi:app"]
