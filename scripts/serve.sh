#!/usr/bin/env bash
# Serves the API and the built SPA with uvicorn, and the webhook worker beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
.venv/bin/python -m demosites.integration.worker &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM
echo "安徽省基层思想政治工作示范点管理平台: http://$HOST:$PORT  (API docs: http://$HOST:$PORT/docs)"
# --http: uvicorn's own refusals (malformed requests, bodies cut short) as problem+json too.
.venv/bin/uvicorn demosites.main:app --host "$HOST" --port "$PORT" --no-access-log \
  --http demosites.core.server:HttpToolsProtocol
