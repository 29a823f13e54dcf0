"""What operators run: the ``is21`` command, the embedded Redis, logging, the demo."""
