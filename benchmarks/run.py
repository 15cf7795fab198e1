"""Run every benchmark (or the ones named) and print their ratio tables one after another.

Each ``bench_*.py`` compares provlineage with its baseline side by side in one run and prints ratios, because
absolute times on shared machines are noise.  Targets are reported as PASS/FAIL lines; nothing here is a test.

    python benchmarks/run.py                 # all of them
    python benchmarks/run.py verify emit     # bench_verify.py and bench_emit.py
    python benchmarks/run.py --quick         # smaller inputs, where a benchmark supports --quick
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmark names (the part after bench_), default: all")
    parser.add_argument("--quick", action="store_true", help="pass --quick to the benchmarks that accept it")
    args = parser.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.names:
        wanted = {f"bench_{name}.py" for name in args.names}
        unknown = wanted - {script.name for script in scripts}
        if unknown:
            parser.error(
                f"no such benchmark: {', '.join(sorted(unknown))}; have {', '.join(s.stem[6:] for s in scripts)}"
            )
        scripts = [script for script in scripts if script.name in wanted]
    failed = 0
    for script in scripts:
        extra = ["--quick"] if args.quick and "--quick" in script.read_text(encoding="utf-8") else []
        print(f"\n=== {script.stem} {' '.join(extra)}".rstrip(), flush=True)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, str(script), *extra], check=False)
        print(f"--- {script.stem}: exit {result.returncode}, {time.perf_counter() - start:.0f} s", flush=True)
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
