# The trafficsim image: the simulator and its command line (used by docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY api ./api
COPY sim ./sim
COPY sensors ./sensors
COPY models ./models
COPY runner ./runner
RUN pip install --no-cache-dir . && useradd --create-home --uid 10001 trafficsim
USER trafficsim
ENTRYPOINT []
CMD ["trafficsim", "--help"]
