"""The camera server's library: submit JPEG frames per camera, read detection results."""

from producer.client import FrameProducer, Ticket
from producer.errors import (
    FrameRejected,
    FrameTooLarge,
    InvalidCameraId,
    InvalidRequestId,
    NotAJpeg,
    WaitTimeout,
)

__all__ = [
    "FrameProducer",
    "FrameRejected",
    "FrameTooLarge",
    "InvalidCameraId",
    "InvalidRequestId",
    "NotAJpeg",
    "Ticket",
    "WaitTimeout",
]
