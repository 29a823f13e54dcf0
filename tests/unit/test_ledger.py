"""The ledger's accounting from what Redis holds, and from what the camera server read."""

from __future__ import annotations

import itertools
import threading
import time

import fakeredis

from is21.producer.ledger import Ledger
from is21.producer.ticket import Ticket
from is21.schemas import keys
from is21.schemas.results import Result
from tests.helpers import wait_until


def _submit(client: fakeredis.FakeRedis, camera: str, frame_id: str, *ledgers: Ledger) -> None:
    client.xadd(keys.frames(camera), {"jpeg": b"x"}, id=frame_id, maxlen=2, approximate=False)
    for ledger in ledgers:
        ledger.record(Ticket(camera, frame_id, 0, "0-0", None, time.time()))


def _publish(client: fakeredis.FakeRedis, camera: str, frame_id: str, maxlen: int) -> Result:
    result = Result(camera_id=camera, frame_id=frame_id, seq=0, status="ok")
    fields = {"frame_id": frame_id, "status": "ok"}
    client.xadd(keys.results(camera), fields, maxlen=maxlen, approximate=False)
    return result


def test_a_result_trimmed_from_its_stream_still_counts_when_the_camera_server_read_it() -> None:
    """Long runs outlive their first results (the streams are capped): reconciled from the
    streams alone, those frames would look superseded."""
    client = fakeredis.FakeRedis()
    read, unread = Ledger(), Ledger()
    for i in range(1, 6):
        _submit(client, "cam", f"{i}-0", read, unread)
        result = _publish(client, "cam", f"{i}-0", maxlen=2)
        read.answer(result)
    unread_account = unread.reconcile(client)["cam"]
    assert (unread_account.processed, unread_account.superseded) == (2, 3)
    read_account = read.reconcile(client)["cam"]
    assert (read_account.processed, read_account.superseded) == (5, 0)
    assert read_account.balanced and not read_account.lost


def test_a_frame_lost_on_one_camera_is_not_lost_on_another_with_the_same_entry_id() -> None:
    """Entry ids are per stream: two cameras' frames stored in the same millisecond share
    one."""
    client = fakeredis.FakeRedis()
    ledger = Ledger()
    for cam in ("a", "b"):
        _submit(client, cam, "7-0", ledger)
    _publish(client, "b", "7-0", maxlen=10)
    accounts = ledger.reconcile(client, lost=frozenset({("a", "7-0")}))
    assert accounts["a"].lost == ["7-0"]
    assert (accounts["b"].processed, accounts["b"].lost) == (1, [])


def test_results_read_in_another_thread_while_the_ledger_reconciles() -> None:
    """A camera server reads results in one thread and looks for lost frames in another:
    the ledger must not fail under them ("dictionary changed size during iteration" ended
    a chaos run's camera server)."""
    client = fakeredis.FakeRedis()
    ledger = Ledger()
    _submit(client, "cam", "1-0", ledger)
    stop = threading.Event()

    def read_results() -> None:
        for i in itertools.count(2):
            if stop.is_set():
                return
            ledger.answer(Result(camera_id="cam", frame_id=f"{i}-0", seq=i, status="ok"))

    reader = threading.Thread(target=read_results)
    reader.start()
    try:
        wait_until(lambda: len(ledger.answered["cam"]) > 50_000, what="results read")
        for _ in range(20):
            assert ledger.reconcile(client)["cam"].submitted == 1
    finally:
        stop.set()
        reader.join()
