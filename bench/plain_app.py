"""The plain app: what a minimal torchvision Space does. ``gr.Interface(image -> gr.Label)`` over
``torchvision.models.googlenet`` in plain eval mode, with the weights' own ``transforms()``; the same checkpoint as
the app under test, and the same endpoint name (``/classify``, one output). The benchmark (bench/sections/first_answer.py) times both side by side in one run: the app's
first answer must come faster than this floor's. Not part of the product.

    python bench/plain_app.py --host 127.0.0.1 --port 7862 --weights googlenet.pth
"""

from __future__ import annotations

import argparse
from typing import Optional

import gradio as gr
import torch
import torchvision
from PIL import Image
from torchvision.models import GoogLeNet_Weights

WEIGHTS = GoogLeNet_Weights.IMAGENET1K_V1
CATEGORIES: list[str] = WEIGHTS.meta["categories"]
PREPROCESS = WEIGHTS.transforms()


def load(path: Optional[str]) -> torch.nn.Module:
    """torchvision's GoogLeNet with a checkpoint in torchvision's format (random weights when none is given)."""
    model = torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=False, transform_input=False)
    if path:
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    return model.eval()


def build(model: torch.nn.Module) -> gr.Interface:
    def predict(image: Image.Image) -> dict[str, float]:
        with torch.inference_mode():
            probabilities = model(PREPROCESS(image.convert("RGB")).unsqueeze(0))[0].softmax(dim=0)
        values, indices = probabilities.topk(5)
        return {CATEGORIES[int(i)]: float(v) for v, i in zip(values, indices)}

    # live=True: the answer comes on the photo's change, as on the app's page (no Submit click to time); the same
    # element ids and API name as the app, so the benchmark drives both alike.
    return gr.Interface(predict, gr.Image(type="pil", elem_id="photo"), gr.Label(num_top_classes=5, elem_id="top5"),
                        api_name="classify", flagging_mode="never", live=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7862)
    parser.add_argument("--weights", default=None)
    args = parser.parse_args()
    build(load(args.weights)).queue().launch(server_name=args.host, server_port=args.port)
