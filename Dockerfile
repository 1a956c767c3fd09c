# mockserver (distribution "batchfake") as an image: every provider on port 8080.
#   docker build -t batchfake .
#   docker run --rm -p 8080:8080 batchfake
# Settings by environment variables: MOCKSERVER_ and a `mockserver serve` flag's name in capitals, e.g.
#   -e MOCKSERVER_API_KEY=sk-ci -e MOCKSERVER_SEED=7 -e MOCKSERVER_LOG_FORMAT=json -e MOCKSERVER_ACCESS_LOG=1
# tests/distribution/test_dockerfile.py runs these RUN, CMD and HEALTHCHECK commands in a fresh venv.

# -- build: the wheel, with the specs, fixtures and baselines inside (setup.py copies them into the package)
FROM python:3.12-slim AS build
WORKDIR /src
COPY . /src
RUN python -m pip wheel --no-cache-dir --disable-pip-version-check --no-deps --wheel-dir /dist /src

# -- run: the installed wheel only, as an unprivileged user
FROM python:3.12-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MOCKSERVER_PORT=8080 \
    MOCKSERVER_LOG_FORMAT=text
COPY --from=build /dist /dist
RUN python -m pip install --no-cache-dir --disable-pip-version-check /dist/*.whl
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin mockserver && rm -rf /dist
USER mockserver
WORKDIR /home/mockserver
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/_mock/health' % os.environ.get('MOCKSERVER_PORT', '8080'), timeout=2)"]
CMD ["mockserver", "serve", "--host", "0.0.0.0"]
