# One image for the API and the worker; compose.yaml picks the command.
FROM node:20-bookworm-slim AS dashboard
WORKDIR /app/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DATA_DIR=/data HOST=0.0.0.0 PORT=8000
WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.lock
COPY backend/ backend/
COPY workers/ workers/
COPY migrations/ migrations/
COPY alembic.ini ./
RUN pip install --no-cache-dir --no-deps -e .
COPY --from=dashboard /app/frontend/dist frontend/dist
RUN useradd --system --home /app campaigns && mkdir -p /data && chown campaigns /data
USER campaigns
VOLUME /data
EXPOSE 8000
CMD ["sh", "-c", "python -m backend migrate && python -m backend serve"]
