from __future__ import annotations

import pytest
from pydantic import ValidationError

from is21.schemas.events import DEFAULT_SCHEMA, EventRule, EventSchema
from is21.schemas.results import NO_EVENT, Detection


def det(label: str, score: float) -> Detection:
    return Detection(label=label, score=score, box=(0, 0, 1, 1))


def test_person_is_human() -> None:
    assert DEFAULT_SCHEMA.evaluate([det("person", 0.8)]) == ("human", ["human"])


@pytest.mark.parametrize(
    "label", ["bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe"]
)
def test_animals_are_animal(label: str) -> None:
    assert DEFAULT_SCHEMA.evaluate([det(label, 0.9)]) == ("animal", ["animal"])


def test_below_min_score_is_no_event() -> None:
    assert DEFAULT_SCHEMA.evaluate([det("person", 0.49), det("cat", 0.3)]) == (NO_EVENT, [])


def test_other_classes_are_no_event() -> None:
    assert DEFAULT_SCHEMA.evaluate([det("car", 0.99), det("tv", 0.9)]) == (NO_EVENT, [])
    assert DEFAULT_SCHEMA.evaluate([]) == (NO_EVENT, [])


def test_priority_picks_primary_and_lists_all() -> None:
    dets = [det("cat", 0.95), det("person", 0.6)]
    assert DEFAULT_SCHEMA.evaluate(dets) == ("human", ["human", "animal"])
    flipped = DEFAULT_SCHEMA.model_copy(update={"priority": ["animal", "human"]})
    assert flipped.evaluate(dets) == ("animal", ["animal", "human"])


def test_min_score_is_per_event() -> None:
    schema = EventSchema(
        version="2026-01-01.2",
        events={
            "human": EventRule(labels=["person"], min_score=0.9),
            "animal": EventRule(labels=["dog"], min_score=0.2),
        },
        priority=["human", "animal"],
    )
    assert schema.evaluate([det("person", 0.85), det("dog", 0.25)]) == ("animal", ["animal"])


@pytest.mark.parametrize(
    "bad",
    [
        {"version": "v1", "events": {"h": {"labels": ["person"]}}, "priority": ["h"]},
        {"version": "2026-01-01.1", "events": {"h": {"labels": ["person"]}}, "priority": []},
        {"version": "2026-01-01.1", "events": {"h": {"labels": []}}, "priority": ["h"]},
        {
            "version": "2026-01-01.1",
            "events": {"no_event": {"labels": ["x"]}},
            "priority": ["no_event"],
        },
        {
            "version": "2026-01-01.1",
            "events": {"h": {"labels": ["p"], "min_score": 2}},
            "priority": ["h"],
        },
    ],
)
def test_invalid_schemas_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        EventSchema.model_validate(bad)


def with_cameras(cameras: dict[str, object]) -> EventSchema:
    return EventSchema.model_validate({**DEFAULT_SCHEMA.model_dump(), "cameras": cameras})


def test_camera_override_limits_events() -> None:
    schema = with_cameras({"pasture": {"events": ["human"]}})
    dets = [det("cow", 0.9), det("person", 0.7)]
    assert schema.evaluate(dets, "pasture") == ("human", ["human"])
    assert schema.evaluate([det("cow", 0.9)], "pasture") == (NO_EVENT, [])
    assert schema.evaluate(dets, "other") == ("human", ["human", "animal"])


def test_camera_override_min_scores() -> None:
    schema = with_cameras({"busy-street": {"min_scores": {"human": 0.9}}})
    assert schema.evaluate([det("person", 0.8)], "busy-street") == (NO_EVENT, [])
    assert schema.evaluate([det("person", 0.8)], "garden") == ("human", ["human"])
    assert schema.evaluate([det("person", 0.95)], "busy-street") == ("human", ["human"])


@pytest.mark.parametrize(
    "cameras",
    [
        {"a:b": {"events": ["human"]}},
        {"cam": {"events": ["vehicle"]}},
        {"cam": {"min_scores": {"ghost": 0.5}}},
        {"cam": {"min_scores": {"human": 1.5}}},
    ],
)
def test_bad_camera_overrides_are_refused(cameras: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        with_cameras(cameras)
