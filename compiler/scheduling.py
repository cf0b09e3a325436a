"""Run jobs on a thread pool, each one after the jobs it depends on have succeeded."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from spec.errors import PinwrightError

K = TypeVar("K", bound=Hashable)


class DependencyFailedError(PinwrightError):
    """A job did not run because a job it depends on failed or the two depend on each other."""


@dataclass(frozen=True)
class Job(Generic[K]):
    """A callable and the keys of the jobs whose results it receives."""

    call: Callable[[Mapping[K, Any]], Any]
    dependencies: frozenset[K] = frozenset()


def run_jobs(
    pool: Executor, jobs: Mapping[K, Job[K]], describe: Callable[[K], str] = str
) -> dict[K, Any]:
    """Run every job and return its result or the exception it raised, by key.

    A job starts once all its dependencies have returned, and receives their results.
    When one of them failed, or the dependencies form a cycle, the job does not run and
    its result is a DependencyFailedError. That message names keys with `describe`.
    Dependencies that are not keys of `jobs` are ignored.
    """
    waiting = {key: job.dependencies & jobs.keys() for key, job in jobs.items()}
    results: dict[K, Any] = {}
    running: dict[Future[Any], K] = {}

    def start_ready() -> None:
        # A job skipped for a failed dependency can unblock its own dependents at once.
        progressed = True
        while progressed:
            progressed = False
            for key, dependencies in list(waiting.items()):
                if dependencies <= results.keys():
                    del waiting[key]
                    progressed = True
                    start_one(key, dependencies)

    def start_one(key: K, dependencies: frozenset[K]) -> None:
        failed = sorted(
            describe(name) for name in dependencies if isinstance(results[name], BaseException)
        )
        if failed:
            results[key] = DependencyFailedError(f"not resolved because {', '.join(failed)} failed")
            return
        dependency_results = {name: results[name] for name in dependencies}
        running[pool.submit(jobs[key].call, dependency_results)] = key

    start_ready()
    while running:
        done, _ = wait(list(running), return_when=FIRST_COMPLETED)
        for future in done:
            key = running.pop(future)
            error = future.exception()
            results[key] = error if error is not None else future.result()
        start_ready()

    for key in waiting:
        names = ", ".join(sorted(describe(name) for name in waiting))
        results[key] = DependencyFailedError(
            f"not resolved because {names} wait on each other in a dependency cycle"
        )
    return results
