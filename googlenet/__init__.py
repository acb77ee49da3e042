"""GoogLeNet (Inception v1) with torchvision-compatible weights, and the tools to look inside it.

No Gradio in this package: it holds all tensor work, and ``app.py`` only wires it to a web page.
"""

from .model import (
    AUX_HEADS,
    BRANCHES,
    INCEPTION_MODULES,
    ConvBlock,
    GoogLeNet,
    GoogLeNetOutputs,
    Inception,
    InceptionAux,
)

__all__ = [
    "AUX_HEADS",
    "BRANCHES",
    "INCEPTION_MODULES",
    "ConvBlock",
    "GoogLeNet",
    "GoogLeNetOutputs",
    "Inception",
    "InceptionAux",
]
