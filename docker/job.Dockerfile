# The image rule jobs run in: Python, Snakemake and the S3 storage plugin, nothing else. The workflow
# arrives through storage (Snakemake's --deploy-sources), so one image serves every workflow whose
# rules need no other software. Versions: docker/constraints.txt. Build: `make images`, whose build
# context is build/images (the project's wheel and constraints.txt).
ARG PYTHON_IMAGE=python:3.12-slim-bookworm
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY constraints.txt /tmp/constraints.txt
# Pinned by the constraints file (one place for both images' versions).
# hadolint ignore=DL3013
RUN pip install --constraint /tmp/constraints.txt snakemake snakemake-storage-plugin-s3 \
    && rm /tmp/constraints.txt \
    && useradd --create-home --uid 1000 --user-group snakemake

USER 1000
WORKDIR /home/snakemake
