"""The fleet's server-side functions: one Redis Functions library, ``is21``.

Clients call two of them by name, ``is21_register`` and ``is21_alive`` (docs/protocol.md);
the workers call the rest. A function is called by name, so no client tracks a script's
SHA, and the library is replicated and persisted with the data. The workers load it at
start and again whenever Redis answers that a function is missing (a restart without
persistence); clients never load it, and their ACL user may not.

Each function's body is a file of its own here, with its keys and arguments at the top;
``library_source`` wraps them into the one library Redis takes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any, NamedTuple

import redis
from redis.client import Pipeline

LIBRARY = "is21"

# name -> (body file, flags). 'no-writes' lets a client call it with FCALL_RO, on a replica.
FUNCTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "is21_register": ("register.lua", ()),
    "is21_alive": ("alive.lua", ("no-writes",)),
    "is21_claim": ("claim.lua", ()),
    "is21_publish": ("publish.lua", ()),
    "is21_release": ("release.lua", ()),
    "is21_beat": ("beat.lua", ()),
    "is21_ensure_jobs": ("ensure_jobs.lua", ()),
    "is21_sweep": ("sweep.lua", ()),
}


class FunctionsMissing(redis.ResponseError):
    """Redis has no is21 library: it restarted empty and no worker has loaded it yet."""


class Call(NamedTuple):
    function: str
    keys: Sequence[str]
    args: Sequence[Any]


def library_source() -> str:
    files = resources.files("is21.protocol")
    # common.lua: what every function shares (the key checks before any write).
    parts = [f"#!lua name={LIBRARY}", files.joinpath("common.lua").read_text(encoding="utf-8")]
    for name, (file, flags) in FUNCTIONS.items():
        body = files.joinpath(file).read_text(encoding="utf-8")
        listed = ", ".join(f"'{flag}'" for flag in flags)
        parts.append(
            f"redis.register_function{{function_name='{name}', flags={{{listed}}}, "
            f"callback=function(KEYS, ARGV)\n{body}\nend}}"
        )
    return "\n".join(parts) + "\n"


def load_library(client: redis.Redis) -> None:
    """Load (or replace) the library: what a worker does at start and after a restart."""
    client.function_load(library_source(), replace=True)


def is_missing(reply: object) -> bool:
    return isinstance(reply, redis.ResponseError) and "function not found" in str(reply).lower()


def call_functions(
    client: redis.Redis,
    calls: list[Call],
    then: Callable[[Pipeline], object] | None = None,
    *,
    load: bool = True,
) -> list[Any]:
    """Several functions in one round trip, and after them whatever ``then`` adds.

    A function's error reply is raised; what ``then`` added comes back as it is, an
    exception included, for the caller to judge.

    When Redis lacks the library, a worker (``load``) loads it and runs again only the
    calls that failed, since the others have already taken effect (a claim that ran must
    not run twice); a client gets ``FunctionsMissing``.
    """
    pipe = client.pipeline(transaction=False)
    for call in calls:
        pipe.fcall(call.function, len(call.keys), *call.keys, *call.args)
    if then is not None:
        then(pipe)
    replies = list(pipe.execute(raise_on_error=False))
    for i, reply in enumerate(replies):
        if is_missing(reply) and i < len(calls):
            if not load:
                raise FunctionsMissing(f"the {LIBRARY} functions are not loaded: {reply}")
            load_library(client)
            call = calls[i]
            replies[i] = client.fcall(call.function, len(call.keys), *call.keys, *call.args)
        elif isinstance(reply, Exception) and i < len(calls):
            raise reply
    return replies
