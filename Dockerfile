# is21-fleet on any x86_64/aarch64 host with ONNX Runtime (the RK3588 NPU runs on the host
# under systemd: see ops/systemd). Weights are not in the image: mount them at /models.
FROM python:3.11-slim

RUN useradd --system --uid 10021 --home-dir /opt/is21 --shell /usr/sbin/nologin is21
WORKDIR /opt/is21
# The locked versions first (a layer that changes only with the lock), then the project
# without its dependencies: the image runs what CI tested.
COPY requirements/run.txt ./requirements/
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements/run.txt
COPY pyproject.toml README.md ./
COPY is21 ./is21
COPY schemas ./schemas
COPY protocol ./protocol
COPY producer ./producer
COPY workers ./workers
COPY ops ./ops
COPY models ./models
RUN pip install --no-cache-dir --no-deps --no-build-isolation . && rm -rf /root/.cache \
    && install -d -o is21 -g is21 -m 0700 /state

ENV IS21_MANIFEST=/opt/is21/models/manifest.toml \
    IS21_MODEL_DIR=/models \
    PYTHONUNBUFFERED=1
USER is21
ENTRYPOINT ["is21"]
CMD ["worker"]
