"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import subprocess
import time


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a command, measured with GNU time."""
    t0 = time.perf_counter()
    res = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {res.stderr[-3000:]}")
    return wall, int(res.stderr.strip().splitlines()[-1]) / 1024
