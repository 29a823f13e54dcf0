"""Settings an operator can get wrong are refused at start, in one line that names the
variable and says what it must be (issue 28: an empty admin token opened schema writes,
a heartbeat slower than its TTL made live workers look dead, a bad log level or port
ended in a traceback)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from is21.ops.cli import main
from is21.schemas.settings import Settings, describe


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"IS21_ADMIN_TOKEN": ""}, "IS21_ADMIN_TOKEN must be at least 16 characters (it has 0)"),
        ({"IS21_ADMIN_TOKEN": "short"}, "IS21_ADMIN_TOKEN must be at least 16 characters"),
        (
            {"IS21_HEARTBEAT_INTERVAL": "15", "IS21_HEARTBEAT_TTL": "3"},
            "IS21_HEARTBEAT_INTERVAL (15.0 s) must be at most a third of IS21_HEARTBEAT_TTL",
        ),
        ({"IS21_LOG_LEVEL": "LOUD"}, "IS21_LOG_LEVEL: Input should be 'DEBUG'"),
        ({"IS21_PORT": "99999"}, "IS21_PORT: Input should be less than or equal to 65535"),
        ({"IS21_PORT": "0"}, "IS21_PORT: Input should be greater than or equal to 1"),
    ],
)
def test_a_bad_setting_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    says: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert says in describe(refused.value)
    assert main(["health"]) == 2  # the command that would have served with it
    err = capsys.readouterr().err
    assert err.startswith("is21: invalid settings: ") and says in err
    assert len(err.strip().splitlines()) == 1 and "pydantic.dev" not in err


def test_good_settings_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IS21_ADMIN_TOKEN", "x" * 16)
    monkeypatch.setenv("IS21_LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.log_level == "DEBUG" and settings.admin_token == "x" * 16
