"""Errors ``FrameProducer.submit`` raises for input it refuses before touching Redis."""


class FrameRejected(ValueError):
    """The frame was refused; nothing was stored."""


class InvalidCameraId(FrameRejected):
    pass


class InvalidRequestId(FrameRejected):
    pass


class NotAJpeg(FrameRejected):
    pass


class FrameTooLarge(FrameRejected):
    pass


class InvalidCapturedAt(FrameRejected):
    pass


class WaitTimeout(TimeoutError):
    """No result for the frame (or a newer one of its camera) arrived in time."""


class FleetUnreachable(WaitTimeout):
    """Results could not be read: Redis is down or refused, or this process's connections
    stayed busy. A ``WaitTimeout``, so the one handler that turns a missing answer into
    ``no_event`` covers it."""
