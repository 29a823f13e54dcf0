"""The is21 functions library: loaded by workers, reloaded when Redis lost it, and a call
that already ran is never run twice."""

from __future__ import annotations

import pytest
import redis

from is21.protocol.functions import Call, FunctionsMissing, call_functions, load_library
from is21.schemas import keys


def test_a_lost_library_is_loaded_again_and_only_the_failed_calls_rerun(
    client: redis.Redis,
) -> None:
    client.function_flush()
    beat = Call(
        "is21_beat",
        [keys.heartbeat("w"), keys.WORKERS, keys.PROTOCOL, keys.ANSWERING],
        ["w", "{}", 5000, "0"],
    )
    # Before the reload only failed calls ran again; a read pipelined after them ran once.
    reads: list[int] = []
    replies = call_functions(client, [beat], lambda pipe: pipe.incr("reads"))
    reads.append(int(client.get("reads") or 0))
    assert isinstance(replies[0], int) and replies[1] == 1 and reads == [1]
    assert client.zscore(keys.WORKERS, "w") is not None
    assert client.function_list(library="is21")


def test_a_client_never_loads_the_library(client: redis.Redis) -> None:
    client.function_flush()
    with pytest.raises(FunctionsMissing):
        call_functions(client, [Call("is21_alive", [], [])], load=False)
    assert not client.function_list(library="is21")
    load_library(client)
    assert call_functions(client, [Call("is21_alive", [], [])], load=False) == [0]
