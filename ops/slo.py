"""``is21 slo``: the runbook's service levels, measured by Prometheus over a window.

Availability is the share of frames the fleet answered rather than the producer's
fallback (the camera server blind); latency is the frame stored -> result out p95;
errors are error results among answered frames. The figures come from the Prometheus
that scrapes ``is21 health``, so they cover every producer and every worker.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

DURATION = re.compile(r"([0-9]+(ms|[smhdwy]))+")  # PromQL's: 30d, 1h30m, 500ms


class SloError(RuntimeError):
    """Prometheus could not be asked, or did not answer as Prometheus does."""


@dataclass(frozen=True)
class Objective:
    name: str
    query: str  # PromQL over the window, {w}
    target: float
    higher_is_better: bool
    unit: str

    def met(self, value: float) -> bool:
        return value >= self.target if self.higher_is_better else value <= self.target


ANSWERED = "sum(increase(is21_inference_total[{w}]))"
FALLBACK = "(sum(increase(is21_fallback_total[{w}])) or vector(0))"
OBJECTIVES = (
    Objective(
        "availability",
        f"{ANSWERED} / clamp_min({ANSWERED} + {FALLBACK}, 1e-9)",
        0.99,
        True,
        "share of frames answered",
    ),
    Objective(
        "latency_p95",
        "histogram_quantile(0.95, sum(rate(is21_frame_latency_ms_bucket[{w}])) by (le))",
        5000.0,
        False,
        "ms",
    ),
    Objective(
        "error_rate",
        'sum(increase(is21_inference_total{{status="error"}}[{w}])) / clamp_min('
        + ANSWERED
        + ", 1e-9)",
        0.01,
        False,
        "share of answered frames",
    ),
)


def measure(prometheus: str, window: str) -> list[dict[str, Any]]:
    rows = []
    for objective in OBJECTIVES:
        query = objective.query.format(w=window)
        url = f"{prometheus.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
        result = query_prometheus(prometheus, url)
        value = float(result[0]["value"][1]) if result else None
        rows.append(
            {
                "slo": objective.name,
                "target": objective.target,
                "value": value,
                "unit": objective.unit,
                "met": None if value is None else objective.met(value),
            }
        )
    return rows


def query_prometheus(prometheus: str, url: str) -> list[Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            result: list[Any] = json.loads(resp.read())["data"]["result"]
            return result
    except urllib.error.HTTPError as exc:  # Prometheus says why in its JSON body
        try:
            why = json.loads(exc.read())["error"]
        except (ValueError, KeyError, TypeError):
            why = f"HTTP {exc.code}"
        raise SloError(f"Prometheus at {prometheus} refused the query: {why}") from exc
    except urllib.error.URLError as exc:
        raise SloError(f"cannot reach Prometheus at {prometheus}: {exc.reason}") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SloError(f"{prometheus} did not answer as Prometheus's API does: {exc}") from exc


def render(rows: list[dict[str, Any]], window: str) -> str:
    lines = [f"{'slo':<14} {'target':>8} {'measured':>10}  over {window}"]
    for r in rows:
        value = "no data" if r["value"] is None else f"{r['value']:.4g}"
        verdict = {True: "met", False: "MISSED", None: "-"}[r["met"]]
        lines.append(f"{r['slo']:<14} {r['target']:>8} {value:>10}  {verdict}  ({r['unit']})")
    return "\n".join(lines)
