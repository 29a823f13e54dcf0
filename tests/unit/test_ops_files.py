"""The deployment files ship in a state their tools accept."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

SYSTEMD = ROOT / "ops" / "systemd"
UNITS = [
    "is21-worker@0.service",
    "is21-health.service",
    "is21-retention.service",
    "is21-retention.timer",
    "is21.target",
]


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze missing: install the Debian package 'systemd'")
    is21 = Path(sys.executable).with_name("is21")
    for unit in SYSTEMD.iterdir():
        text = unit.read_text()
        # verify insists that ExecStart exists: point it at this checkout's is21.
        (tmp_path / unit.name).write_text(text.replace("/opt/is21/.venv/bin/is21", str(is21)))
    (tmp_path / "is21-worker@0.service").write_text((tmp_path / "is21-worker@.service").read_text())
    out = subprocess.run(
        [analyze, "verify", *[str(tmp_path / u) for u in UNITS]],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and out.stderr.strip() == "" and out.stdout.strip() == "", (
        out.stdout + out.stderr
    )


def test_units_run_as_is21_with_hardening() -> None:
    for name in ("is21-worker@.service", "is21-health.service", "is21-retention.service"):
        text = (SYSTEMD / name).read_text()
        for line in (
            "User=is21",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "PrivateTmp=yes",
            "EnvironmentFile=/etc/is21/is21.env",
            "MemoryMax=",
        ):
            assert line in text, (name, line)
    worker = (SYSTEMD / "is21-worker@.service").read_text()
    assert "Restart=always" in worker and "RestartSec=5" in worker
    assert "--npu-core %i" in worker and "ReadOnlyPaths=/opt/is21 /var/lib/is21/models" in worker


def test_alert_rules_name_metrics_the_endpoint_exports() -> None:
    rules = yaml.safe_load((ROOT / "ops" / "prometheus" / "alerts.yml").read_text())
    every = [r for g in rules["groups"] for r in g["rules"]]
    alerts = {r["alert"] for r in every if "alert" in r}
    assert {  # the design documents' four, beside the fleet's own
        "Is21InferenceSlow",
        "Is21ErrorRate",
        "Is21NoLiveWorker",
        "Is21MemoryHigh",
    } <= alerts
    exported = (ROOT / "ops" / "metrics.py").read_text()
    for rule in every:
        for metric in re.findall(r"\bis21_[a-z_]+", rule["expr"]):
            base = re.sub(r"_(bucket|total|sum|count)$", "", metric)
            assert f'"{base}"' in exported, metric


def test_compose_file_is_valid_yaml_with_the_services() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert {"redis", "worker-0", "worker-1", "health"} <= set(compose["services"])
    assert "--requirepass" in " ".join(compose["services"]["redis"]["command"])


def test_rk3588_example_manifest_is_valid() -> None:
    from is21.workers.manifest import load_manifest

    manifest = load_manifest(ROOT / "models" / "manifest.rk3588.example.toml")
    assert [(d.name, d.backend, d.format) for d in manifest.detector] == [
        ("person", "rknn", "yolov8-rknn"),
        ("animal", "rknn", "yolov8-rknn"),
    ]
    assert "ExecReload=/bin/kill -HUP $MAINPID" in (SYSTEMD / "is21-worker@.service").read_text()


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


# One configurable base for every runbook link: an external label of the Prometheus
# that evaluates the rules, else the path in this repository.
RUNBOOK_BASE = (
    "{{ with $externalLabels.is21_runbook_url }}{{ . }}{{ else }}ops/RUNBOOK.md{{ end }}#"
)


def alerts() -> list[dict[str, Any]]:
    rules = yaml.safe_load((ROOT / "ops" / "prometheus" / "alerts.yml").read_text())
    return [r for g in rules["groups"] for r in g["rules"] if "alert" in r]


def test_every_alert_links_to_a_runbook_section_that_exists() -> None:
    runbook = (ROOT / "ops" / "RUNBOOK.md").read_text()
    anchors = {slug(line.lstrip("#")) for line in runbook.splitlines() if line.startswith("#")}
    links = [r["annotations"]["runbook_url"] for r in alerts()]
    assert links and all(link.startswith(RUNBOOK_BASE) for link in links)
    missing = [link for link in links if link.removeprefix(RUNBOOK_BASE) not in anchors]
    assert missing == [], sorted(anchors)


def test_an_alert_that_keeps_a_label_says_it() -> None:
    """An alert per worker or camera names it in its summary: a page that says "a worker"
    sends the operator looking."""
    kept = 0
    for rule in alerts():
        for label in re.findall(r"by \((\w+)\)", rule["expr"]):
            if label != "le":
                kept += 1
                assert f"$labels.{label}" in rule["annotations"]["summary"], rule["alert"]
    assert kept >= 7


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool missing: install the Debian package 'prometheus' (scripts/setup.sh)")
    return subprocess.run(
        [tool, *args], cwd=ROOT / "ops" / "prometheus", capture_output=True, text=True, timeout=120
    )


def test_every_alert_fires_when_it_should_and_only_then() -> None:
    """promtool's own checks and unit tests of the rules (ops/prometheus/alerts.test.yml)."""
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    rules = yaml.safe_load((ROOT / "ops" / "prometheus" / "alerts.yml").read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    cases = yaml.safe_load((ROOT / "ops" / "prometheus" / "alerts.test.yml").read_text())
    fired = {
        check["alertname"]
        for case in cases["tests"]
        for check in case["alert_rule_test"]
        if check["exp_alerts"]
    }
    silent = {
        check["alertname"]
        for case in cases["tests"]
        for check in case["alert_rule_test"]
        if not check["exp_alerts"]
    }
    assert alerts == fired == silent
