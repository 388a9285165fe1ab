"""Time what the language server does after each didChange, and its memory on a real project.

    python benchmarks/lsp_latency.py PROJECT [--edits 50] [--lines 1000]

PROJECT is a corpus folder (see ../shared/tools/corpus); nothing is downloaded. A 1,000-line
Python module is added in memory (never written) to PROJECT, the project is loaded once as the
server does at start, then the module is edited N times and each edit is checked the way the
server checks it after its 0.3 s debounce (`celery_lint.lsp.Linter.lint`). Prints the load time,
the median and 90th percentile of the edits, and the process's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

TASK = '''
@shared_task(soft_time_limit=60, time_limit=90)
def task_{n}(order_id):
    return order_id
'''


def module(lines: int, edit: int) -> str:
    head = "from celery import shared_task\n"
    body, n = [head], 0
    while sum(part.count("\n") for part in body) < lines - 2:
        body.append(TASK.format(n=n))
        n += 1
    body.append(f"EDIT = {edit}\n")
    return "".join(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--lines", type=int, default=1000)
    arguments = parser.parse_args()
    from celery_lint.lsp import Linter

    linter = Linter()
    path = (arguments.project / "celery_lint_benchmark_module.py").absolute()
    started = time.perf_counter()
    linter.lint(path, module(arguments.lines, 0))  # the project is loaded on the first check
    load = time.perf_counter() - started
    times = []
    for edit in range(1, arguments.edits + 1):
        started = time.perf_counter()
        linter.lint(path, module(arguments.lines, edit))
        times.append(time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times.sort()
    print(f"project: {arguments.project.name}")
    print(f"first check (loads the project): {load:.2f} s")
    print(f"didChange check of a {arguments.lines}-line module, {arguments.edits} edits: "
          f"median {statistics.median(times) * 1000:.1f} ms, "
          f"p90 {times[int(len(times) * 0.9) - 1] * 1000:.1f} ms "
          f"(plus the server's 0.3 s debounce)")
    print(f"peak memory: {peak:.0f} MB")


if __name__ == "__main__":
    main()
