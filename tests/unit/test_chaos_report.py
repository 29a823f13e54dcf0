"""The chaos report's own arithmetic: a ledger that does not add up, or a lost frame far
from any failover, must fail the run, not pass unnoticed."""

from __future__ import annotations

from typing import Any

from is21.lab.chaos_report import Fault, Run


def _account(lost: list[str], processed: int = 5) -> dict[str, Any]:
    return {
        "submitted": 10,
        "fallback": 2,
        "processed": processed,
        "failed": 0,
        "superseded": 3 - len(lost),
        "lost": lost,
    }


def test_a_frame_lost_next_to_a_failover_is_explained_and_one_far_from_it_is_not() -> None:
    run = Run(faults=[Fault("failover", "redis 6380", start=1000.0, end=1010.0)])
    near, far = "999000-0", "1200000-3"  # stream ids: milliseconds of the master's clock
    run.accounts = {"cam-a": _account([near]), "cam-b": _account([far])}
    run.explain({})
    assert run.balanced()
    assert run.unexplained_lost == [far]


def test_an_account_that_does_not_add_up_is_not_balanced() -> None:
    run = Run(accounts={"cam-a": _account([]), "cam-b": _account([], processed=4)})
    assert not run.balanced()


def test_the_worst_gap_names_the_last_fault_before_it_ended() -> None:
    run = Run(
        faults=[
            Fault("kill", "board1.npu0", start=100.0, end=101.0),
            Fault("cut", "board2", start=130.0, end=140.0),
            Fault("stop", "board3.npu0", start=500.0, end=505.0),
        ]
    )
    run.explain({"cam-a": (128.0, 144.5), "cam-b": (300.0, 302.0)})
    assert (run.worst_camera, run.worst_gap_s, run.worst_cause) == ("cam-a", 16.5, "cut board2")
