"""systemd's watchdog: ping while inference is making progress, stop when it hangs.

With ``WatchdogSec=`` in the unit, systemd kills and restarts a worker whose pings stop.
The heartbeat thread pings every beat unless the frame in hand has been in inference for
longer than ``IS21_INFER_TIMEOUT``; a worker that is merely cut off from Redis keeps
pinging (it recovers by itself). The protocol is one datagram to ``$NOTIFY_SOCKET``
(sd_notify(3)); outside systemd this does nothing.
"""

from __future__ import annotations

import os
import socket


def notify(message: str) -> bool:
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return False
    address = "\0" + path[1:] if path.startswith("@") else path  # abstract namespace
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError:
        return False
    return True
