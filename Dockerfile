# is21-fleet on any x86_64/aarch64 host with ONNX Runtime (the RK3588 NPU runs on the host
# under systemd: see ops/systemd). Weights are not in the image: mount them at /models.
FROM python:3.11-slim

RUN useradd --system --uid 10021 --home-dir /opt/is21 --shell /usr/sbin/nologin is21
# The locked versions first (a layer that changes only with the lock), then the project's
# wheel without its dependencies: the image runs what CI tested, installed as a user's
# pip would install it (tests/integration/test_install.py does the same).
COPY requirements/run.txt /tmp/run.txt
RUN pip install --no-cache-dir --require-hashes --no-deps -r /tmp/run.txt
COPY . /tmp/src
RUN pip wheel --no-cache-dir --no-deps --no-build-isolation -w /tmp/wheel /tmp/src \
    && pip install --no-cache-dir --no-deps /tmp/wheel/*.whl \
    && rm -rf /tmp/src /tmp/wheel /tmp/run.txt /root/.cache \
    && install -d -o is21 -g is21 -m 0700 /state

WORKDIR /opt/is21
ENV IS21_MODEL_DIR=/models \
    PYTHONUNBUFFERED=1
USER is21
ENTRYPOINT ["is21"]
CMD ["worker"]
