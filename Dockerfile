# The workbench's images, both made by scripts/install-worker (the install the tests run for
# their worker hosts, tests/cluster):
#   worker  the core only, for `dask scheduler` and `dask worker`
#   driver  the core with JupyterLab, the widgets, the dashboards and ydata-profiling
#
#   docker build --target worker -t workbench-worker .
#   docker build --target driver -t workbench-driver .
#
# BASE: any Debian-like image with Python 3.11 and its venv module (workers must run the
# driver's Python minor version).
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS source
COPY pyproject.toml constraints.txt README.md /opt/workbench-src/
COPY workbench /opt/workbench-src/workbench
COPY dashboards /opt/workbench-src/dashboards
COPY notebooks /opt/workbench-src/notebooks
COPY kernels /opt/workbench-src/kernels
COPY scripts/install-worker /opt/workbench-src/scripts/install-worker
RUN useradd --create-home --uid 1000 wb

FROM source AS worker
RUN /opt/workbench-src/scripts/install-worker /opt/workbench /opt/workbench-src \
    && rm -rf /root/.cache/pip
ENV PATH=/opt/workbench/bin:$PATH PYTHONUNBUFFERED=1
USER wb
WORKDIR /home/wb
CMD ["dask", "worker", "--help"]

FROM source AS driver
RUN /opt/workbench-src/scripts/install-worker /opt/workbench /opt/workbench-src all \
    && rm -rf /root/.cache/pip
ENV PATH=/opt/workbench/bin:$PATH PYTHONUNBUFFERED=1 \
    JUPYTER_PATH=/opt/workbench-src WORKBENCH_DATA_DIR=/home/wb/data
USER wb
WORKDIR /home/wb/work
EXPOSE 8888 5006 8866
CMD ["jupyter", "lab", "--ip", "0.0.0.0", "--port", "8888", "--no-browser"]
