"""GoogLeNet (Inception v1) with torchvision-compatible weights, and the tools to look inside it.

All tensor work lives here, and no Gradio: the web page (``webui/``) only wires it to components. One concern per
module (``model``: the network and the one written-down layer order; ``weights``, ``transforms``, ``labels``,
``images``, ``inference``, ``activations``, ``branch_facts``, ``aux_heads``, ``aux_weights``, ``distill``,
``optimize``, ``integrity``, ``memory``, ``messages``), and subpackages where a concern has several parts
(``attributions/``: one method per module; ``render/``: one view per module). Every sentence meant for a person is a
locale key (``messages``).
"""

from typing import Any

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


def __getattr__(name: str) -> Any:
    # The model's names on first use (PEP 562): importing a torch-free module such as googlenet.messages (the
    # locale files) must not import torch through this package's __init__.
    if name in __all__:
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
