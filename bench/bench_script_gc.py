"""Streamlit's post-script garbage collection: server CPU per script run with it off and on.

Usage (from the project root; loopback only):
    OPTLAB_DATA_DIR=../shared/data python -m bench.bench_script_gc [--runs 40]

Streamlit runs a full gc.collect() after every script run of every session
(`runner.postScriptGC`). While the server held TensorFlow's heap, one collection
cost about 0.1 to 0.2 s of GIL time, so .streamlit/config.toml turned it off.
Training now lives in a worker process, so the server's heap is small again.
This script starts the server twice, once with the collection off and once on,
alternating, and in each opens Home and the Training Lab `--runs` times over
Streamlit's websocket protocol, counting only the server's own CPU (not the
worker's). It prints CPU milliseconds per script run for both and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

import psutil

from bench.streamlit_client import StreamlitSession
from devtools.local_server import start_server


def own_cpu_seconds(process: psutil.Process) -> float:
    """User plus system CPU seconds of this one process (its children not counted)."""
    times = process.cpu_times()
    return times.user + times.system


async def script_runs(url: str, runs: int) -> None:
    """Open Home and the Training Lab `runs` times each, one session per pair."""
    for _ in range(runs):
        async with StreamlitSession(url, "") as session:
            await session.run(timeout=120)
        async with StreamlitSession(url, "training-lab") as session:
            await session.run(timeout=120)


def measure(post_script_gc: bool, runs: int) -> float:
    """Server CPU milliseconds per script run with the collection on or off.

    Args:
        post_script_gc: Streamlit's runner.postScriptGC.
        runs: page pairs to open after a warm-up pair.
    Returns:
        milliseconds of server CPU per script run.
    """
    process, url = start_server(("--runner.postScriptGC", "true" if post_script_gc else "false"))
    try:
        asyncio.run(script_runs(url, 2))  # warm-up: imports, caches and the worker's start
        server = psutil.Process(process.pid)
        before = own_cpu_seconds(server)
        asyncio.run(script_runs(url, runs))
        return 1000 * (own_cpu_seconds(server) - before) / (2 * runs)
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2, help="alternating off/on rounds")
    args = parser.parse_args()
    os.environ.setdefault("OPTLAB_DATA_DIR", str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    figures = {False: [], True: []}
    for _ in range(args.rounds):
        for post_script_gc in (False, True):
            figures[post_script_gc].append(measure(post_script_gc, args.runs))
    off, on = min(figures[False]), min(figures[True])
    print(f"server CPU per script run (best of {args.rounds}): postScriptGC off {off:.1f} ms, "
          f"on {on:.1f} ms, ratio on/off {on / off:.2f}")


if __name__ == "__main__":
    main()
