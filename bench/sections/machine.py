"""The machine the numbers were measured on: CPU model and the vector/matrix flags that decide which kernels run
(AVX2, AVX-512, AMX), whether the CPU has native bf16 (emulated bf16 is slower than fp32, so the bf16 rows and
checks depend on it), cores, memory, load average at start and the library versions. Timings are only comparable
between runs with the same description."""

from __future__ import annotations

import contextlib
import os
import platform
from pathlib import Path

import psutil
import torch
import torchvision


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (else what :mod:`platform` knows)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def bf16_native() -> bool:
    """oneDNN's own check: the CPU has bf16 instructions (avx512_bf16 or AMX)."""
    with contextlib.suppress(Exception):
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def machine(device: torch.device) -> dict:
    """The report's ``machine`` entry."""
    import gradio

    flags = cpu_flags()
    return {
        "cpu": cpu_model(),
        "cores_physical": psutil.cpu_count(logical=False),
        "cores_logical": psutil.cpu_count(logical=True),
        "torch_threads": torch.get_num_threads(),
        "cpu_bf16_native": bf16_native(),
        "cpu_flags": sorted(f for f in flags if f.startswith(("avx512", "amx")) or f in {"avx2", "fma"}),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average": [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "device": str(device),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "gradio": gradio.__version__,
        "onednn": torch.backends.mkldnn.is_available(),
    }
