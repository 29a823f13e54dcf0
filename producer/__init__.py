"""The camera server's library: submit JPEG frames per camera, read detection results."""

from is21.producer.client import FrameProducer
from is21.producer.errors import (
    FleetUnreachable,
    FrameRejected,
    FrameTooLarge,
    InvalidCameraId,
    InvalidCapturedAt,
    InvalidRequestId,
    NotAJpeg,
    WaitTimeout,
)
from is21.producer.events import Redelivery
from is21.producer.ticket import Ticket

__all__ = [
    "FleetUnreachable",
    "FrameProducer",
    "FrameRejected",
    "FrameTooLarge",
    "InvalidCameraId",
    "InvalidCapturedAt",
    "InvalidRequestId",
    "NotAJpeg",
    "Redelivery",
    "Ticket",
    "WaitTimeout",
]
