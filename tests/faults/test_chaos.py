"""A 3-minute chaos run (docs/reliability.md has a 30-minute one): every kind of fault at
least once, then every frame accounted for and every lost frame explained."""

from __future__ import annotations

from is21.ops.chaos import FAULTS, format_ledger, run_chaos
from tests.conftest import MODEL_DIR, SAMPLES, require_shared


def test_three_minutes_of_chaos_end_with_a_balanced_ledger() -> None:
    require_shared()
    run = run_chaos(SAMPLES, MODEL_DIR, minutes=3, seed=21, interval=20)
    print(format_ledger(run))
    assert {f.kind for f in run.faults} == set(FAULTS), run.faults
    assert len(run.accounts) == 30
    for cam, a in run.accounts.items():
        parts = a["fallback"] + a["processed"] + a["failed"] + a["superseded"] + len(a["lost"])
        assert a["submitted"] == parts and a["processed"] > 0, (cam, a)
    assert not run.unexplained_lost, run.unexplained_lost
    assert run.worst_gap_s < 30, (run.worst_gap_s, run.worst_cause)
