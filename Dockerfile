# carehub: one image for the registry/API server, connectors and reconcilers.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY carehub ./carehub
COPY connectors ./connectors
COPY consumers ./consumers
COPY schemas ./schemas
RUN pip install --no-cache-dir . && useradd --create-home carehub
USER carehub
ENV CAREHUB_HOME=/home/carehub/state
ENTRYPOINT ["carehub"]
CMD ["--help"]
