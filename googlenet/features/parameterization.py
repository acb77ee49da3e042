"""The image being optimized: a Fourier-space parameterization with decorrelated colour (Olah et al., 2017).

Why this one (docs/feature-visualization.md): optimizing pixels directly gives high-frequency noise that excites a
unit without showing anything; describing the image by its Fourier coefficients, scaled by 1/frequency, makes every
frequency equally easy to change, so gradient steps no longer favour the highest ones; and optimizing in a
decorrelated colour space (the square root of ImageNet's colour covariance, as Lucid publishes it) stops the
colours drifting to saturated noise. MACO (Fel et al. 2023) fixes the magnitude spectrum to one measured on natural
images and optimizes only the phase; it needs that spectrum as a data file, which this project would have to ship
and justify, while the 1/f scaling needs none and is the method of the Distill articles and Microscope.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torch import Tensor

__all__ = ["FourierImage", "COLOR_CORRELATION_SVD_SQRT"]

#: The square root of ImageNet's colour correlation matrix (Lucid, lucid/optvis/param/color.py, Apache 2.0):
#: a 3x3 map from a decorrelated colour space to RGB.
COLOR_CORRELATION_SVD_SQRT: tuple[tuple[float, float, float], ...] = (
    (0.26, 0.09, 0.02),
    (0.27, 0.00, -0.05),
    (0.27, -0.09, 0.03),
)


def _frequencies(height: int, width: int) -> Tensor:
    """|f| of each coefficient of an rfft2 of an H x W image: H x (W // 2 + 1)."""
    fy = torch.fft.fftfreq(height).view(-1, 1)  # H x 1
    fx = torch.fft.rfftfreq(width).view(1, -1)  # 1 x (W // 2 + 1)
    return torch.sqrt(fx * fx + fy * fy)


class FourierImage(nn.Module):
    """``batch`` RGB images of ``size`` x ``size`` in [0, 1], described by scaled Fourier coefficients.

    The starting image (``sd`` small) is a nearly uniform grey with faint noise, drawn from ``generator``: the same
    seed gives the same start.
    """

    def __init__(self, batch: int, size: int, generator: torch.Generator, *, sd: float = 0.01,
                 decay_power: float = 1.0) -> None:
        super().__init__()
        self.size = size
        freqs = _frequencies(size, size)
        # 1/f scaling: each frequency's coefficient moves at a speed proportional to how much natural images use it
        scale = 1.0 / torch.clamp(freqs, min=1.0 / size) ** decay_power  # H x (W // 2 + 1)
        self.register_buffer("scale", scale, persistent=False)
        spectrum = torch.randn(batch, 3, size, size // 2 + 1, 2, generator=generator) * sd  # N x 3 x H x W' x 2
        self.spectrum = nn.Parameter(spectrum)
        matrix = torch.tensor(COLOR_CORRELATION_SVD_SQRT)
        # normalized by the largest column norm, as Lucid does, so no colour direction is stretched beyond 1
        matrix = matrix / matrix.norm(dim=0).max()
        self.register_buffer("color", matrix, persistent=False)

    def forward(self) -> Tensor:
        """N x 3 x size x size, values in (0, 1)."""
        coefficients = torch.view_as_complex(self.spectrum) * self.scale  # N x 3 x H x W', complex
        # "ortho" = Lucid's unnormalized inverse times sqrt(H W); / 4 is Lucid's constant too
        decorrelated = torch.fft.irfft2(coefficients, s=(self.size, self.size), norm="ortho") / 4.0  # N x 3 x H x W
        rgb = torch.einsum("ij,njhw->nihw", self.color, decorrelated)  # N x 3 x H x W, colour-correlated
        return torch.sigmoid(rgb)
