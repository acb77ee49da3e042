"""The work of the Units tab as it runs under ZeroGPU: one module-level generator per visualization.

It takes picklable arguments (the services' key, the target, the settings) and yields picklable values (previews
and the finished :class:`~googlenet.features.Visualization`: numpy images in frozen dataclasses), each crossing
back from the ZeroGPU worker as it is produced, so the page shows the previews while the GPU optimizes. The disk
cache is read and written by the server, around the call: a cached visualization asks for no GPU at all.
Elsewhere this is a plain generator.
"""

from __future__ import annotations

from typing import Iterator, Union

from googlenet.features import FeatureSettings, Preview, Target, Visualization, visualize

from ..limits import ZERO_GPU_TIME
from ..services import Services
from ..zerogpu import gpu

__all__ = ["visualize_on_device", "visualization_seconds"]

#: The images the optimization feeds the network: the image plus the transforms' padding (24 px), relative to a
#: 224 x 224 photo, whose forward and backward times ZERO_GPU_TIME assumes.
_PAD = 24


def visualization_seconds(services_key: str, target: Target, settings: FeatureSettings) -> int:
    """The GPU time to ask for: every step is one forward and one backward pass of the batch, at its size (as if
    through the whole network: the truncated net is cheaper, so this errs on the long side)."""
    t = ZERO_GPU_TIME.throughput
    pixels = ((settings.size + _PAD) / 224) ** 2
    work = settings.steps * settings.images * pixels * t.backward_s  # backward_s: forward + backward
    return ZERO_GPU_TIME.seconds(work)


@gpu(duration=visualization_seconds)
def visualize_on_device(services_key: str, target: Target,
                        settings: FeatureSettings) -> Iterator[Union[Preview, Visualization]]:
    """The optimization, on the services' device (a private replica of the engine's fast model's layers)."""
    engine = Services.find(services_key).engine
    yield from visualize(engine.fast, target, settings, device=engine.device, spec=engine.preprocess_spec)
