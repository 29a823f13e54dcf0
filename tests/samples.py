"""What ../shared/samples/coco/README.md says each photo contains, as event sets."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SAMPLES

HUMAN, ANIMAL = "human", "animal"

EXPECTED_EVENTS: dict[str, set[str]] = {
    "COCO_val2014_000000181013.jpg": {HUMAN},  # two men playing frisbee
    "COCO_val2014_000000181058.jpg": {ANIMAL},  # sheep
    "COCO_val2014_000000181118.jpg": {HUMAN, ANIMAL},  # elephants and people
    "COCO_val2014_000000181237.jpg": {ANIMAL},  # small bird
    "COCO_val2014_000000181256.jpg": {HUMAN, ANIMAL},  # person riding an elephant
    "COCO_val2014_000000181296.jpg": {HUMAN},  # motorcycle rider
    "COCO_val2014_000000181449.jpg": {ANIMAL},  # black cat
    "COCO_val2014_000000181542.jpg": {HUMAN},  # street crossing
    "COCO_val2014_000000181586.jpg": {ANIMAL},  # cat at a window
    "COCO_val2014_000000181601.jpg": {ANIMAL},  # songbird
    "COCO_val2014_000000181666.jpg": {HUMAN, ANIMAL},  # goats (as cows) and a herder
    "COCO_val2014_000000181739.jpg": {ANIMAL},  # grey cat
    "COCO_val2014_000000181007.jpg": set(),  # night street
    "COCO_val2014_000000181132.jpg": set(),  # street corner, stop sign
    "COCO_val2014_000000181386.jpg": set(),  # trains
    "COCO_val2014_000000181643.jpg": set(),  # empty promenade
}


def expected_primary(name: str) -> str:
    events = EXPECTED_EVENTS[name]
    return HUMAN if HUMAN in events else ANIMAL if ANIMAL in events else "no_event"


def photo(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def photo_path(name: str) -> Path:
    return SAMPLES / name
