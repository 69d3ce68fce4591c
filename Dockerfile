# aifinops in a container: slim, non-root, `aifinops` as the entry point (README "In CI").
#   docker build -t aifinops .                      # every provider's client (extra `all`)
#   docker build --build-arg EXTRAS=demo -t aifinops:demo .   # plus moto, for `scan --demo`
#   docker run --rm -v "$PWD:/work" aifinops scan --billing cur/ -f json,markdown --output-dir out
ARG PYTHON_VERSION=3.12

# build: aifinops and its dependencies into a virtual environment (no compiler needed: every
# dependency ships wheels); only the environment is copied on
FROM python:${PYTHON_VERSION}-slim AS build
ARG EXTRAS=all
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/aifinops
WORKDIR /src
COPY pyproject.toml README.md ./
COPY rules ./rules
COPY src ./src
RUN /opt/aifinops/bin/pip install ".[${EXTRAS}]" \
 && /opt/aifinops/bin/pip uninstall -y pip \
 && /opt/aifinops/bin/aifinops --version

FROM python:${PYTHON_VERSION}-slim
LABEL org.opencontainers.image.title="aifinops" \
      org.opencontainers.image.description="Audit what AI workloads really cost" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --gid 10001 aifinops \
 && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin aifinops \
 && mkdir /work && chown 10001:10001 /work
COPY --from=build /opt/aifinops /opt/aifinops
ENV PATH=/opt/aifinops/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["aifinops"]
CMD ["--help"]
