"""This client beside bare aiohttp and the old clients, on the same local etcd, in one run.

    ./scripts/bench [--rounds 5] [--ops 2000]

Starts etcd 3.5.1 (the ``server`` extra) on a free port. Every figure comes from a fresh
process per run (:mod:`_worker`); the contenders take turns in a rotating order, round after
round, and the medians are compared, since shared machines are noisy. The old aio_etcd has
this package's import name, so the old clients run from a virtualenv of their own
(``benchmarks/.venv-old``, made on first use, or ``--old-python``). Writes the figures to
``benchmarks/results/latest.json`` and, with matplotlib (the ``bench`` extra), a bar chart
to ``latest.png``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import statistics
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

from aio_etcd._server import LocalEtcd

HERE = Path(__file__).parent
OLD_CLIENTS = ["aio-etcd==0.4.6.1", "python-etcd==0.4.5"]
OURS, LEAN, FLOOR = "aio_etcd", "aio_etcd-lean", "aiohttp"
OLD_AIO, OLD_SYNC = "aio-etcd-0.4", "python-etcd"
SCENARIOS = [
    ("put", 1),
    ("get", 1),
    ("cas", 1),
    ("put", 32),
    ("get", 32),
    ("cas", 32),
    ("watch", 1),
]


def old_python(given: str | None) -> str:
    if given:
        return given
    home = HERE / ".venv-old"
    python = home / "bin" / "python"
    if not python.exists():
        print(f"making {home} with {', '.join(OLD_CLIENTS)} ...", flush=True)
        venv.create(home, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *OLD_CLIENTS], check=True)
    return str(python)


def run(
    python: str, contender: str, scenario: str, concurrency: int, ops: int, port: int
) -> dict[str, float]:
    count = ops if scenario != "watch" else min(ops, 900)  # a loop must not fall out of history
    done = subprocess.run(
        [
            python,
            str(HERE / "_worker.py"),
            contender,
            scenario,
            str(concurrency),
            str(count),
            str(port),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{contender} {scenario}: {done.stderr.strip()[-2000:]}")
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ops", type=int, default=2000, help="operations per run")
    parser.add_argument("--old-python", help="an interpreter with the old clients installed")
    parser.add_argument("--only", nargs="*", help="contenders to run (default: all)")
    args = parser.parse_args()
    old = old_python(args.old_python)
    pythons = {
        OURS: sys.executable,
        LEAN: sys.executable,
        FLOOR: sys.executable,
        OLD_AIO: old,
        OLD_SYNC: old,
    }
    contenders = [c for c in pythons if not args.only or c in args.only]
    samples: dict[str, dict[str, list[dict[str, float]]]] = {}
    with LocalEtcd(name="aio-etcd-bench") as server:
        for round_ in range(args.rounds):
            order = contenders[round_ % len(contenders) :] + contenders[: round_ % len(contenders)]
            print(f"round {round_ + 1}/{args.rounds}: {', '.join(order)}", flush=True)
            for scenario, concurrency in SCENARIOS:
                name = f"{scenario} c={concurrency}"
                for contender in order:
                    figures = run(
                        pythons[contender], contender, scenario, concurrency, args.ops, server.port
                    )
                    samples.setdefault(name, {}).setdefault(contender, []).append(figures)
    medians = {
        name: {
            contender: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            for contender, runs in by_contender.items()
        }
        for name, by_contender in samples.items()
    }
    report(medians, ratios(samples), args.rounds)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.json").write_text(
        json.dumps(
            {
                "rounds": args.rounds,
                "ops": args.ops,
                "medians": medians,
                "ratios": ratios(samples),
                "samples": samples,
            },
            indent=1,
        )
    )
    chart(medians, results / "latest.png")


def rate(figures: dict[str, float]) -> float:
    return figures.get("ops_per_s") or figures["events_per_s"]


def ratios(samples: dict[str, dict[str, list[dict[str, float]]]]) -> dict[str, dict[str, float]]:
    """Per scenario and contender: the median over the rounds of ``OURS / contender`` in
    throughput. Within a round the contenders of a scenario run back to back, so each
    ratio compares runs made under the same load; the machine's load between rounds, which
    moves every contender's figures together by up to 2x here, cancels out."""
    found: dict[str, dict[str, float]] = {}
    for name, by_contender in samples.items():
        ours = by_contender.get(OURS)
        if ours is None:
            continue
        found[name] = {
            contender: statistics.median(
                rate(mine) / rate(theirs) for mine, theirs in zip(ours, runs, strict=True)
            )
            for contender, runs in by_contender.items()
        }
    return found


def report(
    medians: dict[str, dict[str, dict[str, float]]],
    ratio_of: dict[str, dict[str, float]],
    rounds: int,
) -> None:
    print(
        f"\nmedians of {rounds} rounds; ratio = {OURS} / contender in throughput, the median "
        "of the rounds' own ratios (>1: faster)"
    )
    columns = ("ops/s", "p50 ms", "p99 ms", "cpu us/op", "ratio")
    print(f"{'scenario':<11}{'contender':<14}" + "".join(f"{c:>10}" for c in columns))
    for name, by_contender in medians.items():
        for contender, figures in by_contender.items():
            ratio = f"{ratio_of[name][contender]:7.2f}x" if name in ratio_of else ""
            p50, p99 = figures.get("p50_ms", math.nan), figures.get("p99_ms", math.nan)
            print(
                f"{name:<11}{contender:<14}{rate(figures):>10.0f}{p50:>10.2f}{p99:>10.2f}"
                f"{figures['cpu_us_per_op']:>10.0f}{ratio:>10}"
            )
    if OURS not in next(iter(medians.values())):
        return
    print("\ntargets")
    for name, by_contender in medians.items():
        if OLD_AIO in by_contender:
            need = 1.15 if name == "get c=32" else 1.0
            got = ratio_of[name][OLD_AIO]
            verdict = "ok" if got >= need else "MISSED"
            print(f"  {name:<11} vs aio-etcd 0.4.6.1  {got:5.2f}x (need >= {need})  {verdict}")
        if FLOOR in by_contender and name.endswith("c=32"):
            overhead = 1 / ratio_of[name][FLOOR] - 1
            verdict = "ok" if overhead <= 0.10 else "MISSED"
            print(f"  {name:<11} overhead over aiohttp {overhead:+6.1%} (need <= +10%)  {verdict}")


def chart(medians: dict[str, dict[str, dict[str, float]]], path: Path) -> None:
    try:  # optional (the bench extra), and untyped
        matplotlib: Any = importlib.import_module("matplotlib")
        matplotlib.use("Agg")
        plt: Any = importlib.import_module("matplotlib.pyplot")
    except ImportError:
        print("(no chart: pip install 'aio_etcd[bench]' for matplotlib)")
        return
    names = list(medians)
    contenders = list(next(iter(medians.values())))
    figure, axes = plt.subplots(figsize=(11, 5))
    width = 0.8 / len(contenders)
    for offset, contender in enumerate(contenders):
        values = [
            rate(medians[name][contender]) if contender in medians[name] else 0 for name in names
        ]
        axes.bar([i + offset * width for i in range(len(names))], values, width, label=contender)
    axes.set_xticks([i + 0.4 - width / 2 for i in range(len(names))], names)
    axes.set_ylabel("operations (or events) per second, median")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    print(f"\nwrote {path} and {path.with_suffix('.json')}")


if __name__ == "__main__":
    main()
