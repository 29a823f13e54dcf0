"""No traceback reaches a user (issue 30): every subcommand, given bad arguments or a
dependency out of reach (Redis, Prometheus, its port), answers one line and the right
exit code: 2 for wrong input, 1 for what could not be done."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from is21.ops.commands import COMMANDS
from tests.conftest import SAMPLES, fleet_env, run_is21
from tests.helpers import JPEG

NOWHERE = "unix:///nonexistent/is21-test/redis.sock"  # no network, nothing listens
LEAKS = ("Traceback", "errors.pydantic.dev", "object at 0x")


def run(*args: str, **env: str) -> tuple[int, str, str]:
    out = run_is21(*args, env=fleet_env(NOWHERE, **env), timeout=120)
    for leak in LEAKS:
        assert leak not in out.stderr + out.stdout, (args, out.stderr[-2000:])
    return out.returncode, out.stdout, out.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unknown_option_is_a_usage_error(command: str) -> None:
    code, _out, err = run(command, "--no-such-option")
    assert code == 2 and "usage: is21" in err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("replay", str(SAMPLES), "--fps", "0"), "--fps: must be above 0, not 0"),
        (("replay", str(SAMPLES), "--cameras", "-1"), "--cameras: must be at least 1, not -1"),
        (("replay", "/nonexistent/photos"), "No such file or directory"),
        (("slo", "--window", "3x"), "not a PromQL duration"),
        (("slo", "--prometheus", "ftp://example"), "not an http(s) URL"),
        (("submit", "--camera", "a:b", str(SAMPLES / JPEG)), "camera id must match"),
        (("submit", "--camera", "a", "/nonexistent.jpg"), "No such file or directory"),
        (("results", "a:b"), "is not a camera id"),
        (("results", "cam", "-n", "0"), "must be at least 1"),
        (("demo", "--cameras", "0"), "must be at least 1"),
        (("soak", "--hours", "0"), "must be above 0"),
        (("bench", "--workers", "0"), "must be at least 1"),
        (("chaos", "--minutes", "-3"), "must be above 0"),
        (("schema", "push", "README.md"), "invalid event schema: Invalid JSON"),
        (("schema",), "required: action"),
        (("worker", "--name", "a:b"), "a worker name is 1-64 of [A-Za-z0-9_.-]"),
    ],
)
def test_wrong_input_is_one_line_and_exit_2(args: tuple[str, ...], says: str) -> None:
    code, _out, err = run(*args)
    assert code == 2 and says in err, err


def test_a_bad_setting_is_one_line_and_exit_2() -> None:
    code, _out, err = run("status", IS21_PORT="99999")
    assert code == 2 and err.startswith("is21: invalid settings: IS21_PORT")


@pytest.mark.parametrize(
    "args",
    [
        ("status", "--once"),
        ("results", "cam"),
        ("workers",),
        ("workers", "forget", "w9"),
        ("retention",),
        ("schema", "show"),
        ("backup", "/tmp/is21-backup-never-written"),
        ("submit", "--camera", "cam", str(SAMPLES / JPEG)),
        ("replay", str(SAMPLES), "--seconds", "0.3", "--cameras", "1"),
        ("worker", "--name", "t0"),
        ("demo",),
        ("soak", "--hours", "0.001", "--interval", "1"),
    ],
)
def test_redis_out_of_reach_is_one_line_and_exit_1(args: tuple[str, ...]) -> None:
    code, _out, err = run(*args)
    lines = [line for line in err.splitlines() if "unreachable" in line or "reach" in line]
    assert code == 1 and lines, err
    assert any("/nonexistent/is21-test/redis.sock" in line for line in lines), err


def test_prometheus_out_of_reach_is_one_line_and_exit_1() -> None:
    code, _out, err = run("slo", "--prometheus", "http://127.0.0.1:1")
    assert code == 1 and err.startswith("is21: cannot reach Prometheus at http://127.0.0.1:1")


def test_a_port_in_use_is_one_line_and_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _out, err = run("health", "--port", str(port))
    assert code == 1 and f"cannot listen on 127.0.0.1:{port}: Address already in use" in err


def test_files_that_are_not_images_are_named_without_internals(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a picture")
    code, out, _err = run("detect", str(tmp_path / "notes.txt"), str(SAMPLES / JPEG))
    assert code == 1
    assert f"{tmp_path / 'notes.txt'}: error: not an image Pillow knows (13 bytes)" in out


def test_a_missing_model_is_one_line_and_exit_2(tmp_path: Path) -> None:
    code, _out, err = run("detect", str(SAMPLES / JPEG), IS21_MODEL_DIR=str(tmp_path))
    assert code == 2 and "yolox_nano.onnx not found" in err


def test_debug_lets_the_traceback_through() -> None:
    out = run_is21("--debug", "status", "--once", env=fleet_env(NOWHERE), timeout=60)
    assert out.returncode == 1 and "Traceback" in out.stderr
    out = run_is21("status", "--once", env=fleet_env(NOWHERE, IS21_DEBUG="1"), timeout=60)
    assert "Traceback" in out.stderr
