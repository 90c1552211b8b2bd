"""``make bench``: run every ``bench_*.py`` next to this file, one after another.

Each module has ``main() -> int`` that writes its own report to stdout and returns 0, or 1
when a target it states was missed. The exit status is the worst of them.
"""

import importlib.util
import logging
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def discover() -> list[Path]:
    return sorted(HERE.glob("bench_*.py"))


def run_module(path: Path) -> int:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    status: int = module.main()
    return status


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for path in (ROOT, HERE):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    selected = sys.argv[1:]
    worst = 0
    for path in discover():
        if selected and path.stem not in selected:
            continue
        sys.stdout.write(f"\n=== {path.stem} ===\n")
        sys.stdout.flush()
        started = time.monotonic()
        status = run_module(path)
        sys.stdout.write(f"--- {path.stem}: exit {status} in {time.monotonic() - started:.1f}s\n")
        worst = max(worst, status)
    return worst


if __name__ == "__main__":
    sys.exit(main())
