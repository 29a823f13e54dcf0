"""Error reporting: on only when SENTRY_DSN is set, so nothing leaves the host by default."""

from __future__ import annotations

import os


def setup_sentry(component: str) -> bool:
    dsn = os.environ.get("SENTRY_DSN")
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.rq import RqIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[RqIntegration()],
        server_name=os.environ.get("HOSTNAME"),
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
    )
    sentry_sdk.set_tag("component", component)
    return True
