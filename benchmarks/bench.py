"""This client beside bare aiohttp and the other etcd clients for Python, on one local etcd.

    ./scripts/bench [--rounds 5] [--ops 2000] [--only NAME ...] [--scale | --no-scale]
    ./scripts/bench --v3-only [--rounds 5] [--ops 2000]
    ./scripts/bench --on-v3 [--rounds 5] [--ops 2000]

Starts etcd 3.5.1 (the ``server`` extra; the v2 API enabled, v3 is always on) on a free
port; ``AIO_ETCD_BINARY=/path/to/etcd`` runs another (e.g. Debian's 3.4.23). Every figure
comes from a fresh process per run (:mod:`_worker`); the contenders take turns in a
rotating order, round after round, and the medians are compared, since shared
machines are noisy. The other clients run from virtualenvs of their own, made on first use
under ``benchmarks/`` (the old aio_etcd has this package's import name, and the gRPC clients
bring their own dependencies); a client that cannot be installed is left out and said so.
``aio_etcd-v3`` (:class:`aio_etcd.Etcd3Client` over etcd's JSON gateway) is measured beside
aetcd (gRPC) with targets of its own; ``--v3-only`` runs just that comparison, and this
client's v2 ``get`` at c=32 on the same server for reference. ``aio_etcd-on-v3`` runs the
documented calls as ``Client(api="v3")`` on the same etcd, beside the same calls on v2;
``--on-v3`` runs just it, ``aio_etcd`` and aetcd. Then one client holds 1,000
``watch_iter`` streams on each transport (:mod:`many_watches`). Writes the figures to
``benchmarks/results/latest.json`` (``latest-v3.json`` with ``--v3-only``) and, with
matplotlib (the ``bench`` extra), a bar chart beside it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import statistics
import subprocess
import sys
import urllib.request
import venv
from pathlib import Path
from typing import Any

from many_watches import in_subprocesses, raise_fd_limit
from many_watches import report as report_scale

from aio_etcd._server import LocalEtcd
from aio_etcd._v2on3._batch import shares_safely

HERE = Path(__file__).parent
OURS, OURS_AIOHTTP, FLOOR = "aio_etcd", "aio_etcd-aiohttp", "aiohttp"
OURS_V3, GATEWAY = "aio_etcd-v3", "gateway"
ON_V3 = "aio_etcd-on-v3"  # the documented calls as Client(api="v3")
OLD_AIO, OLD_SYNC = "aio-etcd-0.4", "python-etcd"
AETCD, ETCD_CLIENT, K3ETCD = "aetcd", "etcd-client-py", "k3etcd"
# Contender -> (its virtualenv under benchmarks/, what to install there); None: this one.
SIDE: dict[str, tuple[str, list[str]] | None] = {
    OURS: None,
    OURS_AIOHTTP: None,
    OURS_V3: None,
    ON_V3: None,
    GATEWAY: None,
    FLOOR: None,
    OLD_AIO: (".venv-old", ["aio-etcd==0.4.6.1", "python-etcd==0.4.5"]),
    OLD_SYNC: (".venv-old", ["aio-etcd==0.4.6.1", "python-etcd==0.4.5"]),
    AETCD: (".venv-aetcd", ["aetcd==1.0.0"]),
    ETCD_CLIENT: (".venv-etcdclient", ["etcd-client-py==0.5.1"]),
    K3ETCD: (".venv-k3etcd", ["k3etcd==0.2.3"]),
}
# The rest speak v2.
API = {OURS_V3: "v3", ON_V3: "v3", GATEWAY: "v3", AETCD: "v3", ETCD_CLIENT: "v3"}
ONLY_C1 = {K3ETCD}  # blocking, and meant for one caller
NO_WATCH = {GATEWAY}
SCENARIOS = [
    ("put", 1),
    ("get", 1),
    ("cas", 1),
    ("put", 32),
    ("get", 32),
    ("cas", 32),
    ("watch", 1),
]
# (scenario or "*", contender, the least ratio OURS / contender in throughput)
TARGETS = [
    ("get c=32", OLD_AIO, 2.5),
    ("get c=32", AETCD, 1.5),
    ("watch c=1", OLD_AIO, 3.0),
    ("*", OLD_AIO, 1.2),
    ("*", AETCD, 1.0),
]
CPU_TARGET = ("get c=32", 45.0)  # at most this many µs of client CPU per operation
# The same for OURS_V3, the v3 API over etcd's JSON gateway, against gRPC.
V3_TARGETS = [
    ("get c=32", AETCD, 1.2),
    ("*", AETCD, 0.9),
]
# The documented calls on v3 (Client(api="v3")) against the same calls on v2, same server.
ON_V3_TARGETS = [("get c=32", OURS, 0.8)]
# --v3-only: contender -> the scenarios it runs (None: all)
V3_ONLY = {OURS_V3: None, GATEWAY: None, AETCD: None, OURS: {"get c=32"}}


def etcd_version(port: int) -> str:
    """What ``GET /version`` says the server is, e.g. ``3.5.1``."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/version", timeout=10) as reply:
        return str(json.loads(reply.read())["etcdserver"])


def side_python(contender: str, given_old: str | None) -> str | None:
    """The interpreter for a contender, its virtualenv made on first use; None if its
    client cannot be installed here."""
    side = SIDE[contender]
    if side is None:
        return sys.executable
    if given_old and side[0] == ".venv-old":
        return given_old
    home = HERE / side[0]
    python = home / "bin" / "python"
    stamp = home / ".installed"
    if stamp.exists():
        return str(python)
    if (home / ".failed").exists():
        return None
    print(f"making {home} with {', '.join(side[1])} ...", flush=True)
    venv.create(home, with_pip=True, clear=True)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *side[1]],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        (home / ".failed").write_text(done.stderr)
        print(f"  could not install {' '.join(side[1])}: {done.stderr.strip()[-500:]}")
        return None
    stamp.touch()
    return str(python)


def run(
    python: str,
    contender: str,
    scenario: str,
    concurrency: int,
    ops: int,
    port: int,
    env: dict[str, str],
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
        env=env,
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
    parser.add_argument("--watches", type=int, default=1000, help="streams for the scale run")
    parser.add_argument("--watch-rounds", type=int, default=3, help="writes to each watched key")
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--scale", action="store_true", help="only the many-watches run")
    scale.add_argument("--no-scale", action="store_true", help="leave the many-watches run out")
    scale.add_argument(
        "--v3-only",
        action="store_true",
        help=f"only {OURS_V3}, {GATEWAY} and {AETCD} (and {OURS}'s get c=32)",
    )
    scale.add_argument(
        "--on-v3",
        action="store_true",
        help=f"only {ON_V3} (Client(api='v3')), {OURS} (v2) and {AETCD}",
    )
    args = parser.parse_args()
    if args.v3_only:
        args.only, args.no_scale = list(V3_ONLY), True
    if args.on_v3:
        args.only, args.no_scale = [OURS, ON_V3, AETCD], True
    raise_fd_limit(4 * args.watches + 256)  # etcd, started below, inherits it
    pythons: dict[str, str] = {}
    missing: list[str] = []
    if not args.scale:
        for contender in SIDE:
            if args.only and contender not in args.only:
                continue
            python = side_python(contender, args.old_python)
            if python is None:
                missing.append(contender)
            else:
                pythons[contender] = python
    env = dict(os.environ, BENCH_V2_WRITER_PYTHON=sys.executable)
    if any(API.get(contender) == "v3" for contender in pythons):
        # gRPC through aetcd when it installs: faster than etcd's JSON gateway.
        env["BENCH_V3_WRITER_PYTHON"] = side_python(AETCD, None) or sys.executable
    with LocalEtcd(name="aio-etcd-bench") as server:
        server_version = etcd_version(server.port)
        print(f"etcd {server_version} ({server.binary}) on 127.0.0.1:{server.port}", flush=True)
        samples = (
            {}
            if args.scale
            else rounds(pythons, args.rounds, args.ops, server.port, env, v3_only=args.v3_only)
        )
        scaled = (
            {} if args.no_scale else in_subprocesses(args.watches, args.watch_rounds, server.port)
        )
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    medians: dict[str, dict[str, dict[str, float]]] = {}
    if samples:
        medians = {
            name: {
                contender: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
                for contender, runs in by_contender.items()
            }
            for name, by_contender in samples.items()
        }
        report(medians, samples, args.rounds, missing, v2_targets=not (args.v3_only or args.on_v3))
        if any(ON_V3 in by for by in medians.values()):
            shared = "shared" if shares_safely(server_version) else "NOT shared"
            print(
                f"{ON_V3}: concurrent reads {shared} in one txn on etcd {server_version} "
                "(never on 3.5.0-3.5.4, which crash when a read-only txn is cut off)"
            )
    if scaled:
        report_scale(scaled)
    stem = "latest-v3" if args.v3_only else "latest-on-v3" if args.on_v3 else "latest"
    (results / f"{stem}.json").write_text(
        json.dumps(
            {
                "rounds": args.rounds,
                "ops": args.ops,
                "missing": missing,
                "medians": medians,
                "ratios": ratios(samples),
                "v3_ratios": ratios(samples, OURS_V3),
                "on_v3_ratios": ratios(samples, ON_V3),
                "samples": samples,
                "many_watches": scaled,
            },
            indent=1,
        )
    )
    if medians:
        chart(medians, results / f"{stem}.png")


def rounds(
    pythons: dict[str, str],
    count: int,
    ops: int,
    port: int,
    env: dict[str, str],
    *,
    v3_only: bool = False,
) -> dict[str, dict[str, list[dict[str, float]]]]:
    contenders = list(pythons)
    samples: dict[str, dict[str, list[dict[str, float]]]] = {}
    for round_ in range(count):
        order = contenders[round_ % len(contenders) :] + contenders[: round_ % len(contenders)]
        print(f"round {round_ + 1}/{count}: {', '.join(order)}", flush=True)
        for scenario, concurrency in SCENARIOS:
            name = f"{scenario} c={concurrency}"
            for contender in order:
                if concurrency != 1 and contender in ONLY_C1:
                    continue
                if scenario == "watch" and contender in NO_WATCH:
                    continue
                chosen = V3_ONLY.get(contender) if v3_only else None
                if chosen is not None and name not in chosen:
                    continue
                figures = run(pythons[contender], contender, scenario, concurrency, ops, port, env)
                samples.setdefault(name, {}).setdefault(contender, []).append(figures)
    return samples


def rate(figures: dict[str, float]) -> float:
    return figures.get("ops_per_s") or figures["events_per_s"]


def ratios(
    samples: dict[str, dict[str, list[dict[str, float]]]], base: str = OURS
) -> dict[str, dict[str, float]]:
    """Per scenario and contender: the median over the rounds of ``base / contender`` in
    throughput. Within a round the contenders of a scenario run back to back, so each
    ratio compares runs made under the same load; the machine's load between rounds, which
    moves every contender's figures together by up to 2x here, cancels out."""
    found: dict[str, dict[str, float]] = {}
    for name, by_contender in samples.items():
        ours = by_contender.get(base)
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
    samples: dict[str, dict[str, list[dict[str, float]]]],
    rounds: int,
    missing: list[str],
    *,
    v2_targets: bool = True,
) -> None:
    ratio_of, v3_ratio_of = ratios(samples), ratios(samples, OURS_V3)
    on_v3_ratio_of = ratios(samples, ON_V3)
    print(
        f"\nmedians of {rounds} rounds; ratio = {OURS} (lean transport, the default) / "
        "contender in throughput, the median of the rounds' own ratios (>1: faster); "
        f"v3 ratio: the same for {OURS_V3}; on-v3: for {ON_V3}.\n"
        f"{ON_V3} runs the documented calls as Client(api='v3') (emulated on the v3 API); "
        f"{OURS_V3} uses the v3 API over etcd's JSON gateway, {GATEWAY} the same requests by "
        f"hand on the lean transport (the gateway's floor), {AETCD} and {ETCD_CLIENT} over "
        "gRPC, the others v2; cas: a write, then a compare-and-swap (v2: prevValue; v3: a "
        "transaction comparing the value); watch: events/s delivered to one watcher, CPU "
        "the watcher's alone"
    )
    for contender in missing:
        print(f"  {contender}: could not be installed here, left out")
    columns = ("ops/s", "p50 ms", "p99 ms", "cpu us/op", "ratio", "v3 ratio", "on-v3")
    print(f"{'scenario':<11}{'contender':<18}" + "".join(f"{c:>10}" for c in columns))
    for name, by_contender in medians.items():
        for contender, figures in by_contender.items():
            cells = [
                f"{of[name][contender]:7.2f}x" if contender in of.get(name, {}) else ""
                for of in (ratio_of, v3_ratio_of, on_v3_ratio_of)
            ]
            p50, p99 = figures.get("p50_ms", math.nan), figures.get("p99_ms", math.nan)
            print(
                f"{name:<11}{contender:<18}{rate(figures):>10.0f}{p50:>10.2f}{p99:>10.2f}"
                f"{figures['cpu_us_per_op']:>10.0f}" + "".join(f"{c:>10}" for c in cells)
            )
    watch = medians.get("watch c=1", {})
    writers = {API.get(c, "v2"): f["writer_per_s"] for c, f in watch.items() if "writer_per_s" in f}
    if writers:
        print(
            "watch writer alone (the ceiling): "
            + ", ".join(f"{api} {rate_:.0f} writes/s" for api, rate_ in sorted(writers.items()))
        )
    met = total = 0
    if v2_targets and any(OURS in by for by in medians.values()):
        print(f"\ntargets ({OURS} = lean transport)")
        met, total = targets(medians, ratio_of, TARGETS)
        cpu_name, cpu_limit = CPU_TARGET
        if cpu_name in medians and OURS in medians[cpu_name]:
            cpu = medians[cpu_name][OURS]["cpu_us_per_op"]
            total += 1
            met += cpu <= cpu_limit
            verdict = "PASS" if cpu <= cpu_limit else "MISS"
            label = "client CPU"
            print(f"  {cpu_name:<11} {label:<17} {cpu:6.1f}us need <= {cpu_limit:.0f}us  {verdict}")
    if any(OURS_V3 in by for by in medians.values()):
        print(f"\nv3 targets ({OURS_V3} = Etcd3Client over the JSON gateway, lean transport)")
        v3_met, v3_total = targets(medians, v3_ratio_of, V3_TARGETS)
        met, total = met + v3_met, total + v3_total
        name = "get c=32"
        if OURS in v3_ratio_of.get(name, {}):
            print(
                f"  {name:<11} vs {OURS + ' (v2)':<14} {v3_ratio_of[name][OURS]:6.2f}x  "
                "(information: the v3 gateway beside the v2 API, same server)"
            )
    if any(ON_V3 in by for by in medians.values()):
        print(f"\nClient(api='v3') targets ({ON_V3} / the same calls on v2, same etcd)")
        on_met, on_total = targets(medians, on_v3_ratio_of, ON_V3_TARGETS)
        met, total = met + on_met, total + on_total
    if total:
        print(f"  {met} of {total} targets met")


def targets(
    medians: dict[str, dict[str, dict[str, float]]],
    ratio_of: dict[str, dict[str, float]],
    wanted: list[tuple[str, str, float]],
) -> tuple[int, int]:
    """Print a PASS/MISS line per target that applies; (met, total)."""
    met = total = 0
    for name, by_contender in medians.items():
        for scope, contender, need in wanted:
            if contender not in by_contender or contender not in ratio_of.get(name, {}):
                continue
            specific = [t for t in wanted if t[0] == name and t[1] == contender]
            if (scope == "*" and specific) or scope not in ("*", name):
                continue
            got = ratio_of[name][contender]
            total += 1
            met += got >= need
            verdict = "PASS" if got >= need else "MISS"
            print(f"  {name:<11} vs {contender:<14} {got:6.2f}x  need >= {need:.1f}x  {verdict}")
    return met, total


def chart(medians: dict[str, dict[str, dict[str, float]]], path: Path) -> None:
    try:  # optional (the bench extra), and untyped
        matplotlib: Any = importlib.import_module("matplotlib")
        matplotlib.use("Agg")
        plt: Any = importlib.import_module("matplotlib.pyplot")
    except ImportError:
        print("(no chart: pip install 'aio_etcd[bench]' for matplotlib)")
        return
    names = list(medians)
    contenders = list(dict.fromkeys(c for by in medians.values() for c in by))
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(13, 8), sharex=True)
    width = 0.8 / len(contenders)
    for offset, contender in enumerate(contenders):
        where = [i + offset * width for i in range(len(names))]
        top.bar(
            where,
            [rate(medians[n][contender]) if contender in medians[n] else 0 for n in names],
            width,
            label=contender,
        )
        bottom.bar(
            where,
            [
                medians[n][contender]["cpu_us_per_op"] if contender in medians[n] else 0
                for n in names
            ],
            width,
        )
    bottom.set_xticks([i + 0.4 - width / 2 for i in range(len(names))], names)
    top.set_ylabel("operations (watch: events) per s")
    bottom.set_ylabel("client CPU, µs per operation")
    bottom.set_yscale("log")
    top.legend(ncol=4, fontsize="small")
    top.set_title("median of the rounds; one etcd 3.5.1 on the same 2-core machine")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    print(f"\nwrote {path} and {path.with_suffix('.json')}")


if __name__ == "__main__":
    main()
