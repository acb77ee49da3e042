"""The benchmark's sections (bench/benchmark.py runs them and writes the report), one concern a module:

- :mod:`bench.sections.common`: the plan of a run, the example photos, timing and peak-RSS helpers;
- :mod:`bench.sections.machine`: what the numbers were measured on (CPU model, flags, native bf16, versions);
- :mod:`bench.sections.forward`: batch-1 forward vs torchvision, throughput, bf16 vs fp32;
- :mod:`bench.sections.capture`: the cost of capturing all 36 branch outputs;
- :mod:`bench.sections.photo_index`: the speed of index-photos (photos per second, end to end and forward only);
- :mod:`bench.sections.attributions`: time and memory of each attribution method, and the bf16 check;
- :mod:`bench.sections.serving`: the API endpoints of a launched app, the REST API and the Gradio floor;
- :mod:`bench.sections.report`: the report rendered as markdown tables.

Each section reports "not available" with the reason instead of failing when its module is missing.
"""
