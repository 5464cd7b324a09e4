# The coordinator image: the job image's Snakemake and S3 storage plugin plus this executor plugin,
# installed from the project's own wheel (its `workflow` extra), at the versions in
# docker/constraints.txt. The state machine runs `python -m snakemake_executor_plugin_aws_basic_batch_sls.coordinate`
# in it. For `bundled` workflows, build FROM this image and COPY the workflow into /home/snakemake/workflow
# (the working directory); `s3://` workflow sources need nothing more. Build: `make images`.
ARG PYTHON_IMAGE=python:3.12-slim-bookworm
FROM ${PYTHON_IMAGE}

# The wheel's file name, which `make images` passes (build/images/wheels/ holds only that wheel).
ARG PLUGIN_WHEEL

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY constraints.txt /tmp/constraints.txt
COPY wheels/${PLUGIN_WHEEL} /tmp/wheels/${PLUGIN_WHEEL}
RUN test -n "${PLUGIN_WHEEL}" \
    && pip install --constraint /tmp/constraints.txt "/tmp/wheels/${PLUGIN_WHEEL}[workflow]" \
    && rm -r /tmp/constraints.txt /tmp/wheels \
    && useradd --create-home --uid 1000 --user-group snakemake \
    && mkdir /home/snakemake/workflow \
    && chown snakemake:snakemake /home/snakemake/workflow

USER 1000
WORKDIR /home/snakemake/workflow
