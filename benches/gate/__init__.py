"""The benchmark gate: in-run throughput ratios, accuracy figures and instruction counts against committed floors.

Shared CI machines vary by 2x in absolute speed from run to run, so the gate never compares times across runs.
It compares, for each *gate*, the throughput of cgi-match (the subject) with the throughput of the peer a user
would otherwise pick, both measured in the same run; accuracy figures against their bounds; and instruction
counts of the hottest kernels (callgrind: repeatable whatever else the machine does) against their bounds.

``python benches/gate check`` (``make bench-check``), ``python benches/gate floors`` (``make bench-floors``),
``python benches/gate report`` (``make bench``) and ``python benches/gate instructions``; ``benches/README.md``
documents how a benchmark declares gated figures.
"""

from __future__ import annotations
