# The obshub image: the hub worker, the access API, the provisioning job and
# the partner connector, all behind the one `obshub` command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OBSHUB_STATE_DIR=/var/lib/obshub

WORKDIR /opt/obshub
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY contracts ./contracts
COPY connectors ./connectors
COPY hub ./hub
COPY deploy ./deploy
RUN pip install --no-cache-dir ".[hub]" \
    && useradd --system --home /var/lib/obshub --uid 10001 obshub \
    && mkdir -p /var/lib/obshub && chown obshub /var/lib/obshub

USER obshub
ENTRYPOINT ["obshub"]
CMD ["--help"]
