"""is21-fleet: the detection fleet behind the is22 camera server.

The repository keeps the card's folders at its top level (``producer/``, ``workers/``,
``schemas/``, ``ops/``, ``models/``, and ``protocol/`` below the first two); this package
names them as one namespace through links, so an install adds ``is21`` and nothing else.
"""
