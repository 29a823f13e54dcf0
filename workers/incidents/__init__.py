"""Incidents, not frames: one ``new`` when a confirmed, moving object of an event's kind
appears on a camera, ``update`` on a change that matters, ``end`` once none has been seen
for ``end_after``. ``lifecycle.py`` is the pure part (tracks + time in, messages out); where
its state is kept and how its messages leave is the worker's (docs/architecture.md)."""
