"""``is21 health``: the HTTP endpoint is22 and Prometheus read, standard library only.

Three parts, so the answer is22 depends on stays small and cannot be held up by the rest:

- ``decision.py``: the ``/healthz`` answer, a pure function of one ``Snapshot``;
- ``probe.py``: reads that snapshot, once per probe, on its own Redis connections;
- ``routes.py``: everything else (capabilities, the schema admin API, ``/metrics``);
- ``server.py``: HTTP and its limits, which route answers which path.
"""

from is21.ops.health.server import HealthApp, serve_health

__all__ = ["HealthApp", "serve_health"]
