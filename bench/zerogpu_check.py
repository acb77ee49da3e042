"""Check the ZeroGPU time assumptions (``ZeroGpuTime`` in webui/limits.py) against a measurement on this device.

The durations the app asks ZeroGPU for are computed from an ASSUMED GPU throughput (no GPU was available where they
were written). On a GPU machine this measures what they assume, through the same attributor the app uses:

- the attributor's own throughput measurement (seconds per image, forward and forward + backward);
- each endpoint's real work (the attribution methods at their ``fast`` preset with faithfulness curves, the sanity
  check, the branch attribution), timed, against the seconds estimated from the assumed throughput.

``assumption holds`` means the measurement is within the assumption (the durations asked for are long enough).
Run by bench/gpu_check.sh; on a CPU it runs too (and shows how far a CPU is from the assumption)::

    python bench/zerogpu_check.py --device cuda [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--json", type=Path, help="write the numbers here too")
    args = parser.parse_args(argv)

    import torch

    from bench.random_weights import make_random_model
    from googlenet import attributions as attr_lib
    from googlenet.inference import Engine
    from googlenet.weights import WeightsInfo, WeightsKind
    from webui.limits import ZERO_GPU_TIME
    from webui.tabs.attribution_work import FAITHFULNESS_STEPS

    device = torch.device(args.device)
    info = WeightsInfo(kind=WeightsKind.CUSTOM, path=None, sha256="random", source="bench")
    engine = Engine(make_random_model(), info, device)
    attributor = attr_lib.Attributor.for_engine(engine, pool_size=1)
    measured = attributor.throughput()
    assumed = ZERO_GPU_TIME.throughput
    batch = attr_lib.batch_size_for(device)
    _, x = engine.prepare(str(ROOT / "assets" / "chelsea.png"))
    rows = []
    extra = attr_lib.faithfulness_cost(FAITHFULNESS_STEPS)

    def timed(fn) -> float:
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    for method in attr_lib.METHODS:
        settings = attr_lib.AttributionSettings(method, preset="fast", internal_batch_size=batch)
        cost = attr_lib.declared_cost(settings) + extra
        attributor.attribute(x, settings, faithfulness_steps=FAITHFULNESS_STEPS)  # warm-up (kernels, replica)
        seconds = timed(lambda: attributor.attribute(x, settings, faithfulness_steps=FAITHFULNESS_STEPS))
        rows.append({"work": f"{method}, fast", "measured_s": seconds, "assumed_s": assumed.seconds(cost)})
    settings = attr_lib.AttributionSettings("saliency", preset="fast", internal_batch_size=batch)
    cost = attributor.sanity_cost(settings)
    rows.append({"work": "sanity check (saliency, fast)", "assumed_s": assumed.seconds(cost),
                 "measured_s": timed(lambda: attributor.sanity_check(x, settings))})
    for method in attr_lib.BRANCH_METHODS:
        cost = attr_lib.branch_cost(method, "fast")
        attributor.branch_attribution(x, method=method, preset="fast", internal_batch_size=batch)
        rows.append({"work": f"branches {method}, fast", "assumed_s": assumed.seconds(cost),
                     "measured_s": timed(lambda: attributor.branch_attribution(
                         x, method=method, preset="fast", internal_batch_size=batch))})

    print(f"device: {engine.device_name}")
    print(f"throughput per image   assumed: forward {assumed.forward_s * 1e3:.1f} ms, forward+backward "
          f"{assumed.backward_s * 1e3:.1f} ms   measured: {measured.forward_s * 1e3:.2f} ms, "
          f"{measured.backward_s * 1e3:.2f} ms")
    print(f"{'work':40} {'assumed s':>10} {'measured s':>11}  duration asked")
    holds = True
    for row in rows:
        ok = row["measured_s"] <= row["assumed_s"]
        holds &= ok
        asked = ZERO_GPU_TIME.seconds(row["assumed_s"])
        print(f"{row['work']:40} {row['assumed_s']:10.2f} {row['measured_s']:11.2f}  {asked:4d} s"
              f"{'' if ok else '   (slower than assumed)'}")
    throughput_ok = measured.forward_s <= assumed.forward_s and measured.backward_s <= assumed.backward_s
    verdict = "assumption holds" if holds and throughput_ok else "assumption MISSED: raise ZeroGpuTime.throughput"
    print(verdict)
    if args.json:
        args.json.write_text(json.dumps({
            "device": engine.device_name, "verdict": verdict,
            "assumed": {"forward_s": assumed.forward_s, "backward_s": assumed.backward_s},
            "measured": {"forward_s": measured.forward_s, "backward_s": measured.backward_s}, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
