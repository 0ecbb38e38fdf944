"""Executors: run tasks, yield their outcomes as they complete.

- `LocalExecutor`: a pool of `jobs` processes on this machine (spawned: TensorFlow does
  not survive a fork), each trial in one process, one TensorFlow thread each.
- `RayExecutor`: each trial as a Ray task (one CPU) on an existing cluster (`ray.init`
  address: `auto`, `HOST:6379`, `ray://HOST:10001`) or on a local instance it starts
  and stops (`local`, bound to 127.0.0.1).
- `InlineExecutor`: in this process, one after the other (tests, debugging).

All call the same `run_task`, which never raises; an executor turns a worker that died
into the trial's one-line error.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from toolkit.errors import ToolkitError
from toolkit.sweep.trial import Outcome, Task, failed, one_line, run_task

TaskFn = Callable[[Task], Outcome]


class Executor(Protocol):
    workers: int

    def describe(self) -> str: ...

    def run(self, tasks: Sequence[Task]) -> Iterator[Outcome]: ...


class InlineExecutor:
    workers = 1

    def __init__(self, fn: TaskFn = run_task) -> None:
        self.fn = fn

    def describe(self) -> str:
        return "in this process"

    def run(self, tasks: Sequence[Task]) -> Iterator[Outcome]:
        for task in tasks:
            yield self.fn(task)


class LocalExecutor:
    """A process pool. A worker that dies (a crash in native code) breaks the pool and every
    trial in flight with it: those are run again, each alone in a new pool, so that only
    the trial that kills its worker is recorded as failed."""

    def __init__(self, jobs: int, fn: TaskFn = run_task) -> None:
        self.workers, self.fn = jobs, fn

    def describe(self) -> str:
        return f"{self.workers} local process{'es' if self.workers > 1 else ''}"

    def _pool(self) -> ProcessPoolExecutor:
        import multiprocessing

        return ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))

    def run(self, tasks: Sequence[Task]) -> Iterator[Outcome]:
        queue, suspects = list(tasks)[::-1], []  # suspects: in flight when a worker died
        pool = self._pool()
        running: dict[Future, Task] = {}
        alone = False  # the one running task is a suspect, run by itself
        try:
            while queue or suspects or running:
                broken = False
                while (suspects and not running) or (not suspects and queue and len(running) < self.workers):
                    source = suspects if suspects else queue
                    try:
                        future = pool.submit(self.fn, source[-1])
                    except BrokenProcessPool:  # a worker died since the last look
                        broken = True
                        break
                    running[future], alone = source.pop(), source is suspects
                    if alone:
                        break
                done, _ = wait(running, return_when=FIRST_COMPLETED) if running else (set(), set())
                for future in done:
                    task = running.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        broken = True
                        if alone:
                            yield failed(task, "the worker process died while running this trial")
                        else:
                            suspects.append(task)
                    except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
                        yield failed(task, one_line(exc))
                if broken and not running:
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = self._pool()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


class RayExecutor:
    def __init__(self, address: str, jobs: int, fn: TaskFn = run_task) -> None:
        self.address, self.workers, self.fn = address, jobs, fn

    def describe(self) -> str:
        if self.address == "local":
            return f"a local Ray instance ({self.workers} CPUs)"
        return f"the Ray cluster at {self.address} (one CPU per trial)"

    def _connect(self):
        # no usage statistics sent anywhere; a local instance listens on loopback only
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            import ray
        except ImportError:
            raise ToolkitError("--ray needs Ray: pip install 'tinyml-toolkit[ray]' (make setup installs it)") from None
        if ray.is_initialized():
            return ray, False
        quiet = {"include_dashboard": False, "logging_level": "ERROR", "log_to_driver": False}
        try:
            if self.address == "local":
                os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
                ray.init(num_cpus=self.workers, object_store_memory=128 * 1024 * 1024, **quiet)
            else:
                ray.init(address=self.address, **{k: v for k, v in quiet.items() if k != "include_dashboard"})
        except Exception as exc:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ...
            raise ToolkitError(f"cannot start or reach Ray at '{self.address}': {one_line(exc)}") from None
        if self.address != "local":
            self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        return ray, True

    def run(self, tasks: Sequence[Task]) -> Iterator[Outcome]:
        if not tasks:
            return
        ray, started = self._connect()
        try:
            remote = ray.remote(num_cpus=1, max_retries=1)(self.fn)
            pending = {remote.remote(task): task for task in tasks}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                task = pending.pop(done[0])
                try:
                    yield ray.get(done[0])
                except Exception as exc:  # noqa: BLE001 - a worker that died, a node lost
                    yield failed(task, f"the Ray task failed: {one_line(exc)}")
        finally:
            if started:
                ray.shutdown()


def make_executor(jobs: int | None, ray_address: str | None) -> Executor:
    if jobs is not None and jobs < 1:
        raise ToolkitError("--jobs must be at least 1")
    jobs = jobs or os.cpu_count() or 1
    return RayExecutor(ray_address, jobs) if ray_address else LocalExecutor(jobs)
