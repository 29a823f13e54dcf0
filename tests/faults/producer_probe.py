"""A camera server in its own network namespace (run by test_hosts.py): one frame every
0.1 s for SECONDS, each submit and its answer printed as a JSON line."""

from __future__ import annotations

import json
import sys
import time

from is21.producer import FrameProducer, WaitTimeout
from is21.schemas.settings import Settings


def main(jpeg_path: str, seconds: float) -> None:
    settings = Settings()
    producer = FrameProducer.from_url(settings.effective_redis_url, settings)
    jpeg = open(jpeg_path, "rb").read()  # noqa: SIM115
    start = time.monotonic()
    while (t := time.monotonic() - start) < seconds:
        ticket = producer.submit("gate", jpeg)
        line = {"t": round(t, 3), "submit_s": round(time.monotonic() - start - t, 3)}
        if ticket.fallback is not None:
            line["fallback"] = ticket.fallback.error
        else:
            try:
                line["status"] = producer.wait(ticket, timeout=3).status
            except WaitTimeout:
                line["status"] = "timeout"
            except Exception as exc:  # Redis gone between submit and wait
                line["status"] = f"{type(exc).__name__}"
        print(json.dumps(line), flush=True)
        time.sleep(max(0.0, 0.1 - (time.monotonic() - start - t)))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
