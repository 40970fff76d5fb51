#!/usr/bin/env bash
# Browser tests: a real server on a fresh SQLite database with demo data, driven by playwright-core.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${E2E_PORT:-8765}
DIR=$(mktemp -d /tmp/demosites-e2e.XXXXXX)
export DATABASE_URL="sqlite:///$DIR/e2e.db" UPLOAD_DIR="$DIR/uploads" ENVIRONMENT=test \
       ALLOW_CLOCK_OVERRIDE=1 DEMO_MODE=1 DEMO_PASSWORD="E2e-demo-password-1" \
       SECRET_KEY="e2e-secret-key-that-is-long-enough-0123456789"
.venv/bin/alembic upgrade heads
.venv/bin/python -m demosites.cli seed --demo >/dev/null
.venv/bin/uvicorn demosites.main:app --host 127.0.0.1 --port "$PORT" --no-access-log \
  --http demosites.core.server:HttpToolsProtocol >"$DIR/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.2
done
cd frontend
E2E_BASE_URL="http://127.0.0.1:$PORT" E2E_PASSWORD="$DEMO_PASSWORD" npm run test:e2e || { tail -50 "$DIR/server.log"; exit 1; }
