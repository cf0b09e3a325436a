"""Measure `pinwright check` against the bare import of the CLI module, in one run.

Generates a catalog of N images: half in the template form, half in the stages form, and
every fifth image built on the one before it. Locks it offline with made-up digests and
versions, compiles it, then times each command as a new Python process, as CI runs it.
`--catalog PATH` times an existing compiled catalog instead. Prints a Markdown table of
the median wall time of each command over `--repeat` runs.

    PYTHONPATH=$PWD python benchmarks/check_catalog.py [--images 200] [--catalog PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.checks.catalogs import MIRROR, REGISTRY, lock_offline
from tests.trees import write_tree


def generate_catalog(root: Path, count: int) -> None:
    """Write a catalog of `count` images with templates, stages and image dependencies."""
    files = {
        "pinwright.yaml": f"""
            registry: {REGISTRY}/catalog
            alpine: {{mirror: "{MIRROR}", branch: v3.19, repositories: [main]}}
        """
    }
    for number in range(count):
        name = f"image-{number:03d}"
        base = f"image-{number - 1:03d}" if number % 5 == 4 else f"{REGISTRY}/library/alpine:3.19"
        inputs = f"""
            inputs:
              base: {{image: "{base}"}}
              packages: {{alpine_packages: [busybox, ca-certificates]}}
              tool: {{git_tag: "https://git.example.test/tool-{number}.git", prefix: v}}
        """
        if number % 2 == 0:
            files[f"images/{name}/image.yaml"] = inputs
            files[f"images/{name}/Dockerfile.j2"] = """
                FROM {{ inputs.base }}
                RUN apk add --no-cache {{ inputs.packages }}
                LABEL tool={{ inputs.tool.version }}
            """
        else:
            files[f"images/{name}/image.yaml"] = (
                inputs
                + """
            stages:
              - base: base
                packages: packages
                steps:
                  - run: echo {{ inputs.tool }}
                  - user: nobody
        """
            )
    write_tree(root, files)


def time_command(arguments: list[str], repeat: int, expected: int) -> float:
    """Return the median wall time in ms of running `arguments`, checking the exit code."""
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        completed = subprocess.run(arguments, env=environment, capture_output=True, check=False)
        samples.append((time.perf_counter() - started) * 1000)
        if completed.returncode != expected:
            sys.exit(f"{arguments} exited {completed.returncode}:\n{completed.stdout.decode()}")
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200, help="images to generate")
    parser.add_argument("--catalog", type=Path, help="time this compiled catalog instead")
    parser.add_argument("--repeat", type=int, default=7, help="runs per command")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pinwright-bench-") as folder:
        root = args.catalog
        if root is None:
            root = Path(folder)
            generate_catalog(root, args.images)
            lock_offline(root)
        images = len(list((root / "images").glob("*/image.yaml")))

        python = sys.executable
        rows = [
            ("import compiler.cli", [python, "-c", "import compiler.cli"]),
            ("validate", [python, "-m", "compiler", "-C", str(root), "validate"]),
            ("check", [python, "-m", "compiler", "-C", str(root), "check"]),
        ]
        timings = {label: time_command(command, args.repeat, 0) for label, command in rows}

    base = timings["import compiler.cli"]
    print(f"| command ({images} images) | median wall time (ms) | ratio to import |")
    print("|---|---:|---:|")
    for label, value in timings.items():
        print(f"| {label} | {value:.0f} | {value / base:.2f} |")


if __name__ == "__main__":
    main()
