"""Batched scripts: a script Redis lost is reloaded without running the others twice."""

from __future__ import annotations

import redis

from producer.connection import run_scripts


def test_only_the_unknown_script_is_run_again(client: redis.Redis) -> None:
    known = client.register_script("return redis.call('INCR', KEYS[1])")
    unknown = client.register_script("return redis.call('INCRBY', KEYS[1], 10)")
    client.script_flush()
    client.script_load(known.script)
    # Before the fix a NOSCRIPT made the whole batch run again: a claim ran twice and
    # left a camera leased to nobody for a lease TTL.
    assert run_scripts(client, [(known, ["a"], []), (unknown, ["b"], [])]) == [1, 10]
    assert client.get("a") == b"1" and client.get("b") == b"10"
    assert run_scripts(client, [(unknown, ["b"], []), (known, ["a"], [])]) == [20, 2]
