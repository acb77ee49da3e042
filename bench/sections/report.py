"""The report as markdown: one table (or line) per section, in the order the sections run, each saying "not
available" with the reason when its section could not run; the last line is the verdict (PASS / FAIL)."""

from __future__ import annotations

from typing import Any


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def render(report: dict) -> str:
    """The report (as :func:`bench.benchmark.main` builds it) as markdown, printed at the end of a run."""
    m = report["machine"]
    out = [f"## Machine\n\n{m['cpu']}, {m['cores_physical']} physical / {m['cores_logical']} logical cores, "
           f"{m['memory_gb']} GB, torch threads {m['torch_threads']}, native CPU bf16: {m['cpu_bf16_native']}; "
           f"GPU: {m['gpu'] or 'none'}; device {m['device']}; torch {m['torch']}, torchvision {m['torchvision']}, "
           f"gradio {m['gradio']}; load average at start {m['load_average']}.\n\nWeights: {report['weights']}\n"]
    f = report["forward"]
    if "rows" in f:
        out.append(f"## Batch-1 forward ({f['runs']} interleaved runs after {f['warmup']} warm-up, median)\n")
        out.append(_table(["model", "median ms", "ratio vs torchvision", "max abs logit diff", "within 1e-4",
                           "note"], [[r["model"], r["median_ms"], r["ratio_vs_torchvision"], r["max_abs_logit_diff"],
                                      r["within_1e-4"], r["note"]] for r in f["rows"]]))
    if "rows" in report["throughput"]:
        out.append("\n## Throughput\n")
        out.append(_table(["batch", "model", "median ms", "images/s"],
                          [[r["batch"], r["model"], r["median_ms"], r["images_per_s"]]
                           for r in report["throughput"]["rows"]]))
    b = report["bf16"]
    out.append("\n## bf16 vs fp32 (example photos)\n")
    out.append(f"top-1 agreement {b['top1_agreement']}, max probability difference {b['max_prob_diff']}, native "
               f"{b['native']}; never the default" if b.get("available") else f"not available: {b['reason']}")
    c = report["capture"]
    out.append("\n## Branch capture (36 outputs) vs plain forward\n")
    out.append(f"plain {c['plain_ms']} ms, capture {c['capture_ms']} ms, ratio {c['ratio']}" if c.get("available")
               else f"not available: {c['reason']}")
    pi = report.get("photo_index", {"available": False, "reason": "not measured"})
    out.append("\n## Photo index (index-photos: decode, forward, top-9 of all 5,488 branch channels)\n")
    out.append(f"{pi['photos']} JPEGs of {pi['photo_size'][0]}x{pi['photo_size'][1]}, batches of {pi['batch']}, "
               f"{pi['decode_workers']} decode threads, {pi['device']}: **{pi['photos_per_s']} photos/s** end to end "
               f"({pi['forward_and_merge_photos_per_s']} photos/s for the forward pass and the merge alone); "
               f"10,000 photos in about {pi['minutes_for_10000']} min (best of {pi['rounds']} rounds; load average "
               f"{pi['load_average']})" if pi.get("available")
               else f"not available: {pi['reason']}")
    a = report["attributions"]
    out.append(f"\n## Attributions ({a.get('input')}, default preset, faithfulness steps "
               f"{a.get('faithfulness_steps')}, batches of {a.get('internal_batch_size')})\n")
    if a.get("available"):
        out.append(_table(["method", "images", "seconds", "peak RSS increase MB"],
                          [[r["method"], r["images"], r["seconds"], r["peak_rss_increase_mb"]] for r in a["rows"]]))
        out.append(f"\nmemory: {a['memory']}")
        check = a.get("bf16_check", {})
        if check.get("available"):
            out.append("\nIntegrated Gradients in bf16 autocast vs fp32 (not used by the app):\n")
            out.append(_table(["photo", "target", "fp32 s", "bf16 s", "Spearman of the maps"],
                              [[r["photo"], r["target"], r["fp32_s"], r["bf16_s"], r["spearman"]]
                               for r in check["rows"]]))
    else:
        out.append(f"not available: {a['reason']}")
    out += _features(report.get("features", {}))
    s = report["serving"]
    out.append("\n## API endpoints (gradio_client against a launched app)\n")
    if s.get("available"):
        rows = []
        for r in s["rows"]:
            if "skipped" in r:
                rows.append([r["endpoint"], r["skipped"], "", "", "", "", "", "", "", ""])
                continue
            one, many, http = r["one_client"], r["many_clients"], r.get("http", {})
            rows.append([f"`{r['endpoint']}`", one["p50_ms"], one["p95_ms"], one["requests_per_s"],
                         http.get("p50_ms"), many["p50_ms"], many["p95_ms"], many["requests_per_s"],
                         r.get("rss_peak_mb"), one["errors"] + many["errors"] + http.get("errors", 0)])
        floor = s.get("floor", {})
        if floor.get("available"):
            one, http = floor["one_client"], floor["http"]
            rows.append(["floor: a `/classify` that does no work (bench/floor_app.py)", one["p50_ms"],
                         one["p95_ms"], one["requests_per_s"], http["p50_ms"], "", "", "", "",
                         one["errors"] + http["errors"]])
        n = report["plan"]["many_clients"]
        out.append(_table(["endpoint", "1 client p50 ms", "p95 ms", "req/s", "REST API p50 ms",
                           f"{n} clients p50 ms", "p95 ms", "req/s", "server RSS peak MB", "errors"], rows))
        out.append("\n1 and {n} clients: gradio_client; REST API: one user of `POST /gradio_api/call/<name>` + its "
                   "event stream, no gradio_client (which polls for messages every 50 ms).".replace("{n}", str(n)))
        out.append(f"\ncold start (process start to first answered /classify): {s['cold_start_s']} s; "
                   f"serving process peak RSS: {s['peak_rss_mb']} MB")
    else:
        out.append(f"not available: {s['reason']}")
    out.extend(_first_answer(report.get("first_answer", {})))
    out.extend(_live(report.get("live", {})))
    out.append(f"\nTotal benchmark time {report['elapsed_s']} s. RESULT: {'PASS' if report['ok'] else 'FAIL'}")
    return "\n".join(out)


def _first_answer(f: dict) -> list[str]:
    out = ["\n## The first answer, side by side with the plain app (bench/plain_app.py, one interleaved run)\n"]
    if not f.get("available"):
        return out + [f"not available: {f.get('reason')}"]
    c, b = f["gradio_client"], f["browser"]
    rows = [[f"gradio_client `{name}`", ms] for name, ms in c["median_ms"].items()]
    if b.get("available"):
        rows += [[f"browser upload to top-5: {name}", ms] for name, ms in b["median_ms"].items()]
    out.append(_table(["what", "median ms"], rows))
    browser = f"browser ratio {b['ratio']} (target <= {f['targets']['browser']})" if b.get("available") else \
        f"browser: not available ({b.get('reason')})"
    out.append(f"\n/classify ratio {c['ratio_classify']} (target <= {f['targets']['classify']}), with the crop "
               f"{c.get('ratio_classify_with_crop')}, /top5 {c['ratio_top5']}; {browser}; targets met: {f['met']}")
    return out


def _live(live: dict) -> list[str]:
    out = ["\n## Live camera (the browser's stream protocol, a launched app)\n"]
    if not live.get("available"):
        return out + [f"not available: {live.get('reason')}"]
    rows = [["1 viewer", *_live_row(live["one_viewer"])]]
    rows += [[f"4 viewers: viewer {i + 1}", *_live_row(v)] for i, v in enumerate(live["four_viewers"])]
    rows.append(["1 viewer, branch strip on", *_live_row(live["one_viewer_strip"])])
    out.append(_table(["viewers", "updates/s", "p50 ms", "p95 ms", "max ms", "skipped (busy)", "frames sent"], rows))
    out.append(f"\n{live['seconds']} s each, stream_every {live['stream_every_s']} s; targets {live['targets']}, "
               f"met: {live['met']}; per-frame preprocessing (ms): {live['preprocessing_ms']}")
    return out


def _live_row(v: dict) -> list:
    return [v["updates_per_s"], v["latency_p50_ms"], v["latency_p95_ms"], v["latency_max_ms"], v["skipped"],
            v["sent"]]


def _features(fv: dict) -> list[str]:
    out = ["\n## Feature visualization (one channel; objective = mean of the last 8 steps)\n"]
    if not fv.get("available"):
        return out + [f"not available: {fv.get('reason')}"]
    out.append(_table(["unit", "steps", "size", "seconds", "objective reached"],
                      [[r["unit"], r["steps"], r["size"], r["seconds"], r["objective"]] for r in fv["rows"]]))
    out.append(f"\nAt the defaults (load average at the start {fv['load_average_at_start']}):\n")
    out.append(_table(["unit", "steps", "size", "seconds", "first preview s", "activation start -> end", "target s",
                       "within"], [[d["unit"], d["steps"], d["size"], d["seconds"], d["first_preview_s"],
                                    f"{d['activation'][0]} -> {d['activation'][1]}", d["target_s"],
                                    d["within_target"]] for d in fv["defaults"]]))
    gpu = fv.get("gpu_512", {})
    if gpu.get("available"):
        out.append(f"\nGPU: {gpu['steps']} steps at {gpu['size']} px in {gpu['seconds']} s "
                   f"(target < {gpu['target_s']} s: {'PASS' if gpu['within_target'] else 'MISS'})")
    return out
