"""One key-prefix convention for every function of the library (issue 29): the prefix is
named once, in common.lua, equal to schemas/keys.py's PREFIX; every other script builds a
derived key as PREFIX .. name, and every key the fleet passes in KEYS carries it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib import resources
from typing import cast

import redis

from is21.protocol.functions import FUNCTIONS
from is21.schemas import keys
from is21.schemas.results import Result
from is21.schemas.settings import Settings
from is21.workers.claims import Claim, ClaimScripts

DEFINITION = re.compile(r"^local PREFIX = '([^']*)'$", re.MULTILINE)


def code_of(file: str) -> str:
    """The script without its comments: what it does, not what it says."""
    text = resources.files("is21.protocol").joinpath(file).read_text(encoding="utf-8")
    return "\n".join(line.split("--", 1)[0].rstrip() for line in text.splitlines())


def scripts() -> list[str]:
    return sorted({file for file, _flags in FUNCTIONS.values()})


def test_the_prefix_is_named_once_in_common_lua_as_in_python() -> None:
    assert DEFINITION.findall(code_of("common.lua")) == [keys.PREFIX]


def test_no_script_names_the_prefix_or_takes_one_of_its_own() -> None:
    offenders = {}
    for file in scripts():
        code = code_of(file)
        found = [m for m in (keys.PREFIX, "local prefix", "(prefix") if m in code]
        if found:
            offenders[file] = found
    assert offenders == {}, "build keys as PREFIX .. name (common.lua)"
    assert scripts() and all("PREFIX" in code_of(f) or "KEYS[" in code_of(f) for f in scripts())


def test_every_key_the_fleet_declares_carries_the_prefix() -> None:
    constants = [v for k, v in vars(keys).items() if k.isupper() and isinstance(v, str)]
    assert constants and all(c.startswith(keys.PREFIX) for c in constants if c != keys.PREFIX)
    built = ClaimScripts(cast(redis.Redis, None), Settings())  # builds calls, sends none
    claim = Claim("cam", "1-0", 1, b"", b"", 0, 0.0, datetime.now(UTC), "")
    result = Result(camera_id="cam", frame_id="1-0", seq=1, status="ok")
    calls = [
        built._claim_call("job", reserve=True),
        built._publish_call("job", result),
        built._release_call("job", claim.camera_id),
    ]
    declared = [key for call in calls for key in call.keys]
    assert declared and all(str(key).startswith(keys.PREFIX) for key in declared), declared
