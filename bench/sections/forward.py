"""The model's forward pass: batch-1 latency of what the app serves and of the speed-up candidates we tried, each
against ``torchvision.models.googlenet`` in plain eval mode with the same weights (and its largest logit difference:
a candidate is only a speed-up if it computes the same thing, within 1e-4); throughput at larger batches; and bf16
vs fp32 on the example photos (top-1 agreement, largest probability difference), which is why bf16 is never the
default."""

from __future__ import annotations

import copy
from typing import Any, Callable

import torch
import torchvision

from bench.sections.common import PHOTOS, TOLERANCE, Plan, example_batch, interleaved, log
from bench.sections.machine import bf16_native
from googlenet.inference import Engine
from googlenet.optimize import build_inference_net


def torchvision_model(engine: Engine) -> torch.nn.Module:
    """``torchvision.models.googlenet`` in plain eval mode with the engine's weights (main head only)."""
    model = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False,
                                         transform_input=engine.reference.transform_input)
    state = {k: v for k, v in engine.reference.state_dict().items() if not k.startswith(("aux1.", "aux2."))}
    model.load_state_dict(state, strict=True)
    return model.eval().to(engine.device)



def forward_section(engine: Engine, tv: torch.nn.Module, plan: Plan, compile_batch1: bool) -> dict:
    """Batch-1 latency of ours and of the speed-up candidates vs torchvision, with each one's logit difference."""
    device = engine.device
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1, 3, 224, 224, generator=generator).to(device)
    xcl = x.contiguous(memory_format=torch.channels_last)
    photos = example_batch(engine)
    fused_plain = copy.deepcopy(engine.fast).to(memory_format=torch.contiguous_format)  # folded, NCHW
    ours_name = f"ours (engine.logits: {engine.inference_description})"

    def fast(t: torch.Tensor) -> torch.Tensor:
        return engine.fast(t.contiguous(memory_format=torch.channels_last))

    # The first candidate is torchvision, the second is what the app serves (engine.logits); the rest are the
    # steps towards it and the alternatives we measured.
    candidates: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "torchvision eval": lambda t: tv(t),
        ours_name: engine.logits,
    }
    notes: dict[str, str] = {}
    if device.type == "cpu":
        plain_net = build_inference_net(engine.fast, packed=False)
        candidates["merged 1x1 convs, plain conv2d (InferenceNet packed=False)"] = plain_net
        candidates["BatchNorm folded + channels_last (engine.fast)"] = fast
        candidates["BatchNorm folded only (NCHW)"] = lambda t: fused_plain(t)
        with torch.inference_mode():
            frozen = torch.jit.freeze(torch.jit.trace(engine.fast, xcl, check_trace=False))
            optimized = torch.jit.optimize_for_inference(torch.jit.trace(engine.fast, xcl, check_trace=False))
        candidates["engine.fast + torch.jit.freeze"] = lambda t: frozen(t.contiguous(memory_format=torch.channels_last))
        candidates["engine.fast + jit optimize_for_inference"] = lambda t: optimized(t.contiguous(
            memory_format=torch.channels_last))

        def no_onednn(t: torch.Tensor) -> torch.Tensor:
            with torch.backends.mkldnn.flags(enabled=False):
                return fast(t)

        candidates["engine.fast with oneDNN off"] = no_onednn
        threads = torch.get_num_threads()
        if threads > 1:
            def one_thread(t: torch.Tensor) -> torch.Tensor:
                torch.set_num_threads(1)
                try:
                    return engine.logits(t)
                finally:
                    torch.set_num_threads(threads)

            candidates["ours with 1 thread"] = one_thread
        try:
            bf16_net = build_inference_net(engine.fast, dtype=torch.bfloat16)
        except RuntimeError as exc:
            log.warning("no bf16 inference net on this CPU: %s", exc)
        else:
            candidates["ours in bf16 (InferenceNet, bf16 weights)"] = bf16_net
            notes["ours in bf16 (InferenceNet, bf16 weights)"] = (
                "native bf16 (avx512_bf16/AMX)" if bf16_native() else "no native bf16 on this CPU: emulated")

        def bf16(t: torch.Tensor) -> torch.Tensor:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return fast(t).float()

        candidates["engine.fast, bf16 autocast"] = bf16
    else:
        candidates["BatchNorm folded + channels_last, fp32"] = fast
        for dtype_name, dtype in (("fp16", torch.float16), ("bf16", torch.bfloat16)):
            def autocast(t: torch.Tensor, dtype: torch.dtype = dtype) -> torch.Tensor:
                with torch.autocast("cuda", dtype=dtype):
                    return fast(t).float()

            candidates[f"ours, {dtype_name} autocast"] = autocast
        if compile_batch1:
            compiled_engine = Engine(copy.deepcopy(engine.reference), engine.weights, device, precision="fp16",
                                     compile_batch1=True)

            def compiled(t: torch.Tensor) -> torch.Tensor:
                return compiled_engine.logits(t)

            candidates["ours, fp16 + torch.compile (CUDA graphs)"] = compiled
            notes["ours, fp16 + torch.compile (CUDA graphs)"] = "includes the copy of the logits to the CPU"

    with torch.inference_mode():
        reference_random = tv(x).float()
        reference_photos = tv(photos).float()
    timings = interleaved({name: (lambda fn=fn: fn(x)) for name, fn in candidates.items()}, plan.warmup,
                          plan.runs, device)
    rows = []
    tv_s = timings["torchvision eval"]
    with torch.inference_mode():
        for name, fn in candidates.items():
            diff = max((fn(x).float() - reference_random).abs().max().item(),
                       (fn(photos).float() - reference_photos).abs().max().item())
            rows.append({
                "model": name,
                "median_ms": round(timings[name] * 1000, 2),
                "ratio_vs_torchvision": round(timings[name] / tv_s, 3),
                "max_abs_logit_diff": float(f"{diff:.3g}"),
                "within_1e-4": diff <= TOLERANCE,
                "note": notes.get(name, ""),
            })
    ours = rows[1]
    return {"batch": 1, "runs": plan.runs, "warmup": plan.warmup, "rows": rows,
            "ours_ms": ours["median_ms"], "torchvision_ms": rows[0]["median_ms"],
            "ratio": ours["ratio_vs_torchvision"], "max_abs_logit_diff": ours["max_abs_logit_diff"],
            "ok": ours["within_1e-4"]}


def throughput_section(engine: Engine, tv: torch.nn.Module, plan: Plan, batches: tuple[int, ...]) -> dict:
    """Images per second of ours vs torchvision at each of ``batches`` (interleaved, median)."""
    device = engine.device
    bf16_net = None
    if device.type == "cpu" and bf16_native():  # emulated bf16 is slower than fp32: not worth a row
        bf16_net = build_inference_net(engine.fast, dtype=torch.bfloat16)
    rows = []
    for n in batches:
        x = torch.randn(n, 3, 224, 224, generator=torch.Generator().manual_seed(n)).to(device)
        candidates: dict[str, Callable[[], Any]] = {
            "torchvision eval": lambda: tv(x),
            f"ours ({engine.precision})": lambda: engine.logits(x),
        }
        if device.type == "cpu" and bf16_net is not None:
            candidates["ours in bf16 (InferenceNet)"] = lambda: bf16_net(x)
        if device.type == "cuda":
            def fp16() -> Any:
                with torch.autocast("cuda", dtype=torch.float16):
                    return engine.fast(x.contiguous(memory_format=torch.channels_last))

            candidates["ours (fp16 autocast)"] = fp16
        runs = max(2, plan.runs // (4 if n >= 32 else 2)) if not plan.quick else plan.runs
        timings = interleaved(candidates, max(1, plan.warmup // 2), runs, device)
        for name, seconds in timings.items():
            rows.append({"batch": n, "model": name, "median_ms": round(seconds * 1000, 1),
                         "images_per_s": round(n / seconds, 1)})
    return {"rows": rows}


def bf16_section(engine: Engine, plan: Plan) -> dict:
    """bf16 vs fp32 on the example photos: top-1 agreement and the largest probability difference.

    On the CPU, bf16 is the InferenceNet with bfloat16 weights (``Engine(precision="bf16")``); on a GPU, autocast.
    """
    device_type = engine.device.type
    photos = example_batch(engine).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        p32 = engine.fast(photos).float().softmax(1)
        try:
            if device_type == "cpu":
                p16 = build_inference_net(engine.fast, dtype=torch.bfloat16)(photos).softmax(1)
            else:
                with torch.autocast(device_type, dtype=torch.bfloat16):
                    p16 = engine.fast(photos).float().softmax(1)
        except RuntimeError as exc:
            return {"available": False, "reason": f"bf16 fails on this device: {exc}"}
    agree = (p32.argmax(1) == p16.argmax(1)).tolist()
    return {
        "available": True,
        "native": bf16_native() if device_type == "cpu" else True,
        "photos": [p.name for p in PHOTOS],
        "top1_agrees": agree,
        "top1_agreement": f"{sum(agree)}/{len(agree)}",
        "max_prob_diff": float(f"{(p32 - p16).abs().max().item():.3g}"),
        "default": False,
    }
