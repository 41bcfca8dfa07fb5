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


def sh(cmd: str) -> float:
    """Run a shell command (bash); return its wall seconds, or raise with the end of its stderr."""
    t0 = time.perf_counter()
    res = subprocess.run(cmd, shell=True, capture_output=True, text=True, executable="/bin/bash")
    if res.returncode != 0:
        raise RuntimeError(f"{cmd}\n{res.stderr[-2000:]}")
    return time.perf_counter() - t0
