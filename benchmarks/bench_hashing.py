"""Hashing throughput: ``provlineage hash`` against plain hashlib, and the cache against a cold read.

(a) ``provlineage hash --no-cache`` of one big file vs a Python subprocess running
    ``hashlib.file_digest(f, "sha256")`` on it (CLI start-up counts): target ratio <= 1.25.
(b) the same on a directory of many 4 MiB files vs a one-thread hashlib loop over them: target <= 0.85.
(c) a cached re-hash of the unchanged big file vs the cold hash of (a): target <= 0.2.

Data are generated in a temporary directory and read once before timing, so every figure is
page-cache throughput; each command runs ``--repeat`` times, alternating, and the median is compared.

    python benchmarks/bench_hashing.py [--size-gib 1] [--files 256] [--repeat 5] [--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIB = 1 << 20
GIB = 1 << 30
CLI = [sys.executable, "-c", "from provlineage.cli import main; main()", "hash"]
HASHLIB_FILE = (
    "import hashlib, sys\nwith open(sys.argv[1], 'rb') as f:\n    print(hashlib.file_digest(f, 'sha256').hexdigest())\n"
)
HASHLIB_LOOP = (
    "import hashlib, os, sys\n"
    "root = sys.argv[1]\n"
    "for name in sorted(os.listdir(root)):\n"
    "    with open(os.path.join(root, name), 'rb') as f:\n"
    "        print(hashlib.file_digest(f, 'sha256').hexdigest(), name, sep='  ')\n"
)
# The cache trusts a file only once its ctime is older than this (provlineage.hashing.cache.RACY_WINDOW_NS).
RACY_WINDOW_S = 2.0


def write_random_file(path: Path, size: int) -> None:
    """Random bytes, produced from one 16 MiB random block with a varying counter (fast to generate)."""
    block = bytearray(os.urandom(16 * MIB))
    with path.open("wb") as handle:
        written, counter = 0, 0
        while written < size:
            block[:8] = counter.to_bytes(8, "little")
            piece = memoryview(block)[: min(len(block), size - written)]
            handle.write(piece)
            written += len(piece)
            counter += 1


def warm(paths: list[Path]) -> None:
    buffer = bytearray(8 * MIB)
    for path in paths:
        with path.open("rb", buffering=0) as handle:
            while handle.readinto(buffer):
                pass


def run(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"benchmark command failed ({result.returncode}): {' '.join(command)}\n{result.stderr}")
    return elapsed, result.stdout


def medians(commands: dict[str, Callable[[], tuple[float, str]]], repeat: int) -> dict[str, tuple[float, str]]:
    """Runs the commands alternately ``repeat`` times; median seconds and the last output of each."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    outputs: dict[str, str] = {}
    for _ in range(repeat):
        for name, command in commands.items():
            elapsed, outputs[name] = command()
            times[name].append(elapsed)
    return {name: (statistics.median(times[name]), outputs[name]) for name in commands}


def report(label: str, ours: float, theirs: float, target: float, size: int) -> bool:
    ratio = ours / theirs
    verdict = "PASS" if ratio <= target else "FAIL"
    print(
        f"{label:<52} provlineage {ours:7.3f} s ({size / ours / 1e9:5.2f} GB/s)   baseline {theirs:7.3f} s "
        f"({size / theirs / 1e9:5.2f} GB/s)   ratio {ratio:5.2f}  target <= {target:<4}  {verdict}"
    )
    return ratio <= target


def root_from_lines(lines: str) -> str:
    """sha256-manifest-v1 over "<hex>  <name>" lines (flat directory, plain ASCII names)."""
    rows = sorted(lines.splitlines(), key=lambda row: row.split("  ", 1)[1].encode())
    return hashlib.sha256("".join(f"{row}\n" for row in rows).encode()).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-gib", type=float, default=1.0, help="Size of the big file (default 1).")
    parser.add_argument("--files", type=int, default=256, help="4 MiB files in the directory (default 256).")
    parser.add_argument("--repeat", type=int, default=5, help="Runs per measurement; the median counts.")
    parser.add_argument("--quick", action="store_true", help="256 MiB file, 64 files, 3 runs.")
    parser.add_argument("--tmp-dir", type=Path, default=None, help="Where to put the data (default: system temp).")
    args = parser.parse_args()
    if args.quick:
        args.size_gib, args.files, args.repeat = 0.25, 64, 3
    big_size = int(args.size_gib * GIB)

    work = Path(tempfile.mkdtemp(prefix="provlineage-bench-hash-", dir=args.tmp_dir))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    env["PROVLINEAGE_CACHE_DIR"] = str(work / "cache")
    try:
        big = work / "big.bin"
        tree = work / "tree"
        tree.mkdir()
        print(f"generating {big_size / GIB:.2f} GiB file and {args.files} x 4 MiB files in {work} ...")
        write_random_file(big, big_size)
        for index in range(args.files):
            write_random_file(tree / f"part-{index:05d}.bin", 4 * MIB)
        created = time.time()
        files = sorted(tree.iterdir())
        warm([big, *files])
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.repeat} runs each, median")
        print(f"load average before: {os.getloadavg()[0]:.2f} (other work on the machine skews (b) most)\n")
        ok = True

        a = medians(
            {
                "ours": lambda: run([*CLI, "--no-cache", str(big)], env),
                "hashlib": lambda: run([sys.executable, "-c", HASHLIB_FILE, str(big)], env),
            },
            args.repeat,
        )
        assert a["ours"][1].split()[0] == f"sha256:{a['hashlib'][1].strip()}", "digests differ on the big file"
        ok &= report(
            f"(a) {big_size / GIB:.2f} GiB file, --no-cache vs file_digest",
            a["ours"][0],
            a["hashlib"][0],
            1.25,
            big_size,
        )

        tree_size = args.files * 4 * MIB
        b = medians(
            {
                "ours": lambda: run([*CLI, "--no-cache", str(tree)], env),
                "hashlib": lambda: run([sys.executable, "-c", HASHLIB_LOOP, str(tree)], env),
            },
            args.repeat,
        )
        assert b["ours"][1].split()[0] == f"sha256:{root_from_lines(b['hashlib'][1])}", "root digests differ"
        ok &= report(
            f"(b) {args.files} x 4 MiB dir, --no-cache vs 1-thread loop", b["ours"][0], b["hashlib"][0], 0.85, tree_size
        )

        time.sleep(max(0.0, RACY_WINDOW_S + 0.1 - (time.time() - created)))  # let the cache trust the file
        run([*CLI, str(big)], env)  # primes the cache
        if not list((work / "cache").glob("*/*.json")):
            raise SystemExit("the priming run wrote no cache entry")
        c = medians({"cached": lambda: run([*CLI, str(big)], env)}, args.repeat)
        assert c["cached"][1] == a["ours"][1], "cached digest differs"
        ok &= report(
            "(c) cached re-hash of the unchanged file vs cold (a)", c["cached"][0], a["ours"][0], 0.2, big_size
        )
        print(f"\nload average after: {os.getloadavg()[0]:.2f}")
        print("ALL PASS" if ok else "SOME TARGETS MISSED")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
