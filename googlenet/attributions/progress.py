"""Progress of an attribution, driven by our own count of images through the replica (not Captum's progress bars,
whose totals are wrong for Occlusion)."""

from __future__ import annotations

from typing import Callable, Optional

__all__ = ["ProgressCallback", "Progress"]

ProgressCallback = Callable[[float, str], None]  # (fraction 0..1, what is running)


class Progress:
    """Maps counted images to a fraction of the declared total and forwards it to the caller's callback."""

    def __init__(self, callback: Optional[ProgressCallback], total: int, label: str) -> None:
        self.callback = callback
        self.total = max(1, total)
        self.offset = 0
        self.label = label

    def report(self, images: int) -> None:
        if self.callback is not None:
            done = min(self.offset + images, self.total)
            self.callback(done / self.total, f"{self.label}: {done}/{self.total}")

    def advance(self, images: int) -> None:
        self.offset += images
        self.report(0)

    def finish(self) -> None:
        if self.callback is not None:
            self.callback(1.0, f"{self.label}: {self.total}/{self.total}")
