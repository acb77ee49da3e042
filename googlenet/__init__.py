"""GoogLeNet (Inception v1) with torchvision-compatible weights, and the tools to look inside it.

All tensor work lives here, and no Gradio: the web page (``webui/``) only wires it to components. One concern per
module (``model``: the network and the one written-down layer order; ``weights``, ``transforms``, ``labels``,
``images``, ``inference``, ``activations``, ``branch_facts``, ``aux_heads``, ``aux_weights``, ``distill``,
``optimize``, ``integrity``, ``memory``, ``messages``), and subpackages where a concern has several parts
(``attributions/``: one method per module; ``render/``: one view per module). Every sentence meant for a person is a
locale key (``messages``).
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
