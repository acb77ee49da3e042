"""The serving floor: a Gradio app whose ``/classify`` has the real one's inputs and outputs but does no work.

The benchmark times it like the real app, so the table can say how much of an endpoint's latency is Gradio and
the client (upload, queue, events, the answer's files) and how much is ours. Not part of the product.

    python bench/floor_app.py --host 127.0.0.1 --port 7861
"""

from __future__ import annotations

import argparse
from typing import Optional

import gradio as gr
from PIL import Image

CROP = Image.new("RGB", (224, 224), (128, 128, 128))  # what the real endpoint returns: a 224x224 crop


def classify(image: str, with_crop: bool = False) -> tuple[dict[str, float], Optional[Image.Image], str, dict]:
    """The same inputs and four outputs as the app's /classify (label dict, the crop only if asked, summary, raw
    JSON), computed from nothing."""
    top = {f"class {i}": 0.2 for i in range(5)}
    return (top, CROP if with_crop else None, "floor: no model ran",
            {"top": [{"name": k, "probability": v} for k, v in top.items()]})


with gr.Blocks() as demo:
    photo = gr.Image(type="filepath")
    crop_wanted = gr.Checkbox(False, visible=False)
    outputs = [gr.Label(num_top_classes=5), gr.Image(type="pil"), gr.Markdown(), gr.JSON()]
    gr.Button().click(classify, [photo, crop_wanted], outputs, api_name="classify")

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7861)
    args = parser.parse_args()
    demo.queue().launch(server_name=args.host, server_port=args.port)
