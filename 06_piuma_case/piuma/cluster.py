"""The cron job on a Dask cluster: optimize_dir(src, dst, cluster="local:2" or an address).

The caller walks src and makes the output folders; each task converts a chunk of
one output folder's files with piuma.convert in a worker, which loads the Go core
in a WorkerPlugin (workers start with spawn: golang/go#15538). README.md, "the
cron job on a Dask cluster", says how deaths, temp files and Ctrl-C are handled.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import secrets
from collections.abc import Callable

import dask
from distributed import Client, LocalCluster, WorkerPlugin, as_completed, get_worker
from distributed.scheduler import KilledWorker
from distributed.utils import CancelledError

from . import Options, _dst, _files, _probe, _tools, convert
from ._files import FileResult, failed

CHUNK_BYTES = 16 << 20  # ~6 product photos: about a second of work on one core
CHUNK_FILES = 16
WORKERS_TIMEOUT = 60  # s an existing cluster may take to have a worker
METHOD = "distributed.worker.multiprocessing-method"


class GoEngine(WorkerPlugin):
    """Loads the Go core once in each worker process (again after a restart),
    for one batch: a name of its own, removed after it (not another's)."""

    def __init__(self) -> None:
        self.name = f"piuma-go-engine-{secrets.token_hex(8)}"

    def setup(self, worker) -> None:
        if dask.config.get(METHOD) == "fork":
            raise RuntimeError(f"{METHOD} is 'fork': a worker forked from a process that "
                               "runs a Go runtime hangs; start the workers with 'spawn'")
        from . import _piuma  # noqa: F401  (the Go core: one runtime per process)


def chunks(src: str, names: list[str]) -> list[list[str]]:
    """names, grouped by output folder, in chunks of about CHUNK_BYTES."""
    out: list[list[str]] = []
    folder, size = None, 0
    for name in sorted(names, key=os.path.dirname):  # (stable: a folder's names keep their order)
        if os.path.dirname(name) != folder or size >= CHUNK_BYTES or len(out[-1]) >= CHUNK_FILES:
            out.append([])
            folder, size = os.path.dirname(name), 0
        out[-1].append(name)
        with contextlib.suppress(OSError):  # its task reports it
            size += os.stat(os.path.join(src, name)).st_size
    return out


def _task(src: str, dst: str, names: list[str], opts: Options, outs: set) -> list[FileResult]:
    """A chunk, in a worker, which runs a task per thread: one file at a time,
    with a thread's share of the worker's budget (half of its memory limit:
    its own Python needs room). A failure is the chunk's files' error."""
    worker = get_worker()
    limit = worker.memory_manager.memory_limit
    budget = opts.max_memory or (limit // 2 if limit else _probe.default_max_memory())
    opts = dataclasses.replace(opts, workers=1, max_memory=max(1, budget // worker.state.nthreads))
    try:
        return convert(src, dst, names, opts, outs=outs)  # (outs: the whole batch's)
    except Exception as exc:  # a worker that joined without its optimiser, say
        return [failed(os.path.join(src, n), os.path.join(dst, n), "internal error",
                       f"on the worker at {worker.address}: {exc}") for n in names]


def _check(opts: Options, dask_worker=None) -> None:
    """On each worker, before a task: its host's optimiser (see _tools)."""
    try:
        _tools(opts)
    except (OSError, ImportError) as exc:
        raise type(exc)(f"on the worker at {dask_worker.address}: {exc}") from None


def _connect(spec: str) -> tuple[Client, LocalCluster | None]:
    if spec == "local" or spec.startswith("local:"):
        n = spec.partition(":")[2]  # (checked by optimize_dir)
        if dask.config.get(METHOD) != "spawn":
            raise ValueError(f"{METHOD} is {dask.config.get(METHOD)!r}: piuma's workers load a "
                             "Go runtime and must start with 'spawn'")
        # One chunk per worker thread at a time (Dask queues 10% more by
        # default): a worker that dies takes only its own chunk with it; a
        # chunk merely queued there would count as a suspect too.
        with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
            cluster = LocalCluster(n_workers=int(n) if n else os.cpu_count() or 1,
                                   threads_per_worker=1, processes=True, dashboard_address=":0",
                                   silence_logs=logging.ERROR)  # a cron job's output stays ours
        try:
            return Client(cluster), cluster
        except BaseException:
            cluster.close()
            raise
    address = spec
    if (os.sep in spec and "://" not in spec) or spec.endswith(".json"):  # a scheduler file
        try:  # (open_source: a FIFO must not block; 1 MiB at most)
            f, _ = _files.open_source(spec)
            with f:
                address = json.loads(f.read(1 << 20))["address"]
            if not isinstance(address, str) or not address:  # (None: Dask's default cluster)
                raise ValueError(f"its address is {address!r}")
        except (OSError, ValueError, KeyError, TypeError, _files.FileError) as exc:
            raise ValueError(f"cluster {spec!r} is not a scheduler file Dask wrote "
                             f"(dask scheduler --scheduler-file): {exc}") from None
    client = Client(address)
    try:  # (without a worker, the tasks would wait forever)
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
    except TimeoutError:
        client.close()
        raise TimeoutError(f"no worker joined the cluster {spec!r} in {WORKERS_TIMEOUT} "
                           "s") from None
    return client, None


def run(src: str, dst: str, names: list[str], sources: set, opts: Options, spec: str,
        progress: Callable[[int, int], object] | None) -> list[FileResult]:
    """The batch on a cluster: results in the order of names."""
    _dst(dst, make=False)  # (before the cluster is changed: the plugin, the workers' checks)
    client, cluster = _connect(spec)
    plugin = GoEngine() if opts.engine == "go" else None
    # Closing the client releases its tasks (Ctrl-C: the scheduler forgets
    # them), and a local cluster goes with it.
    try:
        if plugin is not None:
            client.register_plugin(plugin)
        client.run(_check, opts)  # (a worker that joins later: convert checks it)
        _dst(dst)
        refused = _files.refused_names(dst, names, sources)
        results = {n: failed(os.path.join(src, n), os.path.join(dst, n), "cannot write", why)
                   for n, why in refused.items()}
        todo = [n for n in names if n not in results]
        outs = _files.folder_ids(os.path.join(dst, os.path.dirname(n)) for n in todo)

        def gather(tasks: list[list[str]]) -> list[str]:
            """Runs the chunks; returns the files of those that kept killing their
            workers. pure=False: unique keys (an old key is the old task), and
            no file names in them (not UTF-8, maybe)."""
            futures = {client.submit(_task, src, dst, c, opts, outs, pure=False): c for c in tasks}
            suspects: list[str] = []
            for future in as_completed(futures):
                chunk = futures[future]
                try:
                    rows = future.result()
                except KilledWorker as exc:  # its worker died, allowed-failures + 1 times
                    if len(chunk) > 1:
                        suspects += chunk
                        continue
                    rows = [failed(os.path.join(src, chunk[0]), os.path.join(dst, chunk[0]),
                                   "internal error", "the worker converting this file died "
                                   f"each time Dask tried it (a crash, or killed): {exc}")]
                except (Exception, CancelledError) as exc:  # the scheduler went away, say
                    rows = [failed(os.path.join(src, n), os.path.join(dst, n), "cancelled",
                                   f"the cluster lost this file's task: {exc}") for n in chunk]
                results.update(zip(chunk, rows, strict=True))
                if progress is not None:
                    progress(len(results), len(names))
            return suspects

        # A chunk whose workers kept dying holds a file that kills them: its
        # files, one at a time, alone on the cluster, so that Dask counts each
        # worker's death against that file only (a task merely sent along to
        # the same worker would count as a suspect too).
        for name in gather(chunks(src, todo)):
            gather([[name]])
    finally:
        if plugin is not None:  # a shared cluster is left as found
            with contextlib.suppress(Exception):  # (a lost scheduler: nothing left to undo)
                client.unregister_worker_plugin(plugin.name)
        client.close()
        if cluster is not None:
            cluster.close()
    return [results[n] for n in names]
