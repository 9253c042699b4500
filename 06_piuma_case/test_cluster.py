"""Step 06 on a Dask cluster (piuma/cluster.py): the same results as in one
process, one Go runtime per worker and none in the caller, nothing lost when
a worker dies, a file that kills its worker is that file's error, Ctrl-C,
fork refused, and an existing cluster started as `dask scheduler` + `dask worker`.

Every cluster runs in a child process: this interpreter has loaded the Go
core already, and the assertions about the caller need one that has not.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from piuma import optimize_dir
from test_piuma_case import AS_IN_A_TERMINAL  # (SIGINT handled, as in a terminal)

pytest.importorskip("distributed", reason="the cluster needs dask[distributed] (not installed "
                    "on a free-threaded build: requirements-free-threaded.txt says why)")

HERE = Path(__file__).resolve().parent
PRODUCTS = HERE / "build" / "images" / "products"
GOOD = HERE / "build" / "images" / "fixtures" / "good"
CLI = [sys.executable, str(HERE / "optimize.py")]
COMMON = HERE.parent / "common"


def child(code: str, timeout: int = 300) -> object:
    """Run code in a fresh interpreter; it sets OUT, which comes back."""
    prologue = f"import json, os, sys\nsys.path[:0] = [{str(HERE)!r}, {str(COMMON)!r}]\n"
    p = subprocess.run([sys.executable, "-c", prologue + code
                        + "\nprint('@@' + json.dumps(OUT))\n"],
                       capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stderr[-4000:]
    return json.loads(next(x for x in p.stdout.splitlines() if x.startswith("@@"))[2:])


def src_of(tmp_path: Path, copies: int = 1) -> Path:
    src = tmp_path / "src"
    for i in range(copies):
        shutil.copytree(PRODUCTS, src / f"copy{i}")
    return src


def test_a_local_cluster_writes_what_one_process_writes(tmp_path):
    """The same files, byte for byte; the caller never maps the Go core,
    each worker maps it once."""
    src = src_of(tmp_path)
    out = child(f"""
import piuma
from go_runtimes import go_runtimes
from distributed import get_client
rs = piuma.optimize_dir({str(src)!r}, {str(tmp_path / "cluster")!r}, width=800, height=800,
                        cluster="local:2")
OUT = {{"errors": [r.error for r in rs], "caller": [str(p) for p in go_runtimes()]}}
""")
    assert out["errors"] == [None] * 9
    assert out["caller"] == []  # no Go runtime in the caller
    local = optimize_dir(src, tmp_path / "here", width=800, height=800)
    for r in local:
        rel = os.path.relpath(r.destination, tmp_path / "here")
        assert (tmp_path / "cluster" / rel).read_bytes() == Path(r.destination).read_bytes()


WORKERS_REPORT = """
from distributed import Client, LocalCluster
from go_runtimes import go_runtimes
import piuma
from piuma import cluster
def report():
    return {"pid": os.getpid(), "cores": [str(p) for p in go_runtimes()]}
"""


def test_workers_load_the_core_once_and_again_after_a_restart(tmp_path):
    out = child(WORKERS_REPORT + """
with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                  dashboard_address=":0") as lc, Client(lc) as c:
    c.register_plugin(cluster.GoEngine())
    before = c.run(report)
    c.restart()
    after = c.run(report)
OUT = [list(before.values()), list(after.values())]
""")
    before, after = out
    for reports in (before, after):
        assert len(reports) == 2
        for r in reports:
            assert len(r["cores"]) == 1
            assert r["cores"][0].endswith("libpiuma_core.so")
    assert {r["pid"] for r in before}.isdisjoint(r["pid"] for r in after)


def test_a_worker_killed_mid_batch_loses_nothing(tmp_path):
    """SIGKILL of a worker while it converts: the nanny starts another, its
    chunk runs again, every output is complete; the killed worker's temp file
    is left if it was writing."""
    src = src_of(tmp_path, copies=4)
    out = child(f"""
import signal, threading, time
import piuma
from distributed import Client
killed = []
def kill_one_worker():  # once outputs appear, a worker is mid-chunk
    while not any(f for _, _, f in os.walk({str(tmp_path / "out")!r})):
        time.sleep(0.01)
    import psutil
    kids = [p for p in psutil.Process().children(recursive=True) if "python" in p.name()]
    killed.append(kids[0].pid)
    os.kill(kids[0].pid, signal.SIGKILL)
threading.Thread(target=kill_one_worker, daemon=True).start()
rs = piuma.optimize_dir({str(src)!r}, {str(tmp_path / "out")!r}, width=800, height=800,
                        cluster="local:2")
OUT = {{"errors": [r.error for r in rs], "killed": killed}}
""")
    assert out["killed"], "no worker was killed"
    assert out["errors"] == [None] * 36
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    temps = [p for p in files if p.name.startswith(".") and p.name.endswith(".tmp")]
    assert len(files) - len(temps) == 36
    assert len(temps) <= 1  # the killed worker's, if it was writing (README: the find)


POISON = """
import os, signal
from distributed import WorkerPlugin
class Poison(WorkerPlugin):  # a file that kills its worker every time
    name = "poison"
    def setup(self, worker):
        from piuma import cluster
        real = cluster.convert
        def convert(src, dst, names, opts, **kw):
            if any(n.endswith("poison.jpg") for n in names):
                os.kill(os.getpid(), signal.SIGKILL)
            return real(src, dst, names, opts, **kw)
        cluster.convert = convert
"""


def test_a_file_that_kills_its_worker_every_time_is_that_files_error(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(GOOD, src)
    shutil.copy(GOOD / "baseline.jpg", src / "poison.jpg")
    out = child(POISON + f"""
import dask, piuma
from piuma import cluster
real_connect = cluster._connect
def connect(spec):
    client, lc = real_connect(spec)
    client.register_plugin(Poison())
    return client, lc
cluster._connect = connect
with dask.config.set({{"distributed.scheduler.allowed-failures": 1}}):
    rs = piuma.optimize_dir({str(src)!r}, {str(tmp_path / "out")!r}, width=100,
                            cluster="local:2")
OUT = {{os.path.relpath(r.source, {str(os.path.realpath(src))!r}): r.error for r in rs}}
""", timeout=600)
    assert not (tmp_path / "out" / "poison.jpg").exists()
    assert out.pop("poison.jpg").startswith("internal error: the worker converting this file "
                                            "died each time Dask tried it (a crash, or killed)")
    assert set(out.values()) == {None}
    assert len(out) == 18  # every other file of its chunk, written


def test_bad_files_on_a_cluster_are_per_file_errors(tmp_path):
    bad = HERE / "build" / "images" / "fixtures" / "bad"
    out = child(f"""
import piuma
rs = piuma.optimize_dir({str(bad)!r}, {str(tmp_path / "out")!r}, width=100, cluster="local:1")
OUT = {{os.path.basename(r.source): r.category for r in rs}}
""")
    here = {os.path.basename(r.source): r.category
            for r in optimize_dir(bad, tmp_path / "here", width=100)}
    assert out == here
    assert None not in out.values()


def test_fork_is_refused(tmp_path):
    """Configured with fork: a local cluster is refused before it starts, and
    an existing cluster's workers refuse the Go engine (the plugin)."""
    out = child(f"""
import dask, piuma
from distributed import Client, LocalCluster
errors = []
with dask.config.set({{"distributed.worker.multiprocessing-method": "fork"}}):
    try:
        piuma.optimize_dir({str(GOOD)!r}, {str(tmp_path / "a")!r}, cluster="local:1")
    except ValueError as exc:
        errors.append(str(exc))
    # no Go runtime in this process yet: forking workers from it is harmless here
    with LocalCluster(n_workers=1, processes=True, dashboard_address=":0") as lc:
        try:
            piuma.optimize_dir({str(GOOD)!r}, {str(tmp_path / "b")!r}, cluster=lc.scheduler_address)
        except Exception as exc:
            errors.append(f"{{type(exc).__name__}}: {{exc}}")
OUT = errors
""")
    assert out[0] == ("distributed.worker.multiprocessing-method is 'fork': piuma's workers load "
                      "a Go runtime and must start with 'spawn'")
    assert out[1].startswith("RuntimeError: distributed.worker.multiprocessing-method is 'fork'")
    assert not list((tmp_path / "b").rglob("*.jpg"))


def test_an_existing_cluster_of_dask_processes(tmp_path):
    """`dask scheduler` and `dask worker --nworkers 2 --nthreads 1` started
    as the README says, then the CLI with --cluster SCHEDULER_FILE. The
    workers' host is not the caller's: the optimiser is checked on the
    workers (the caller lacks the tools, the workers the imagequant package)."""
    sched_file = tmp_path / "scheduler.json"
    dask = [str(Path(sys.executable).with_name("dask"))]  # the venv's dask command
    (fake := tmp_path / "fake").mkdir()
    (fake / "imagequant.py").write_text("raise ImportError('not on this host')\n")
    env = dict(os.environ, PYTHONPATH=f"{HERE}{os.pathsep}{fake}")
    logs = {"scheduler": tmp_path / "scheduler.log", "workers": tmp_path / "workers.log"}
    with open(logs["scheduler"], "w") as log:
        procs = [subprocess.Popen([*dask, "scheduler", "--scheduler-file", sched_file, "--host",
                                   "127.0.0.1", "--port", "0", "--dashboard-address", ":0"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        with open(logs["workers"], "w") as log:
            procs.append(subprocess.Popen([*dask, "worker", "--scheduler-file", sched_file,
                                           "--nworkers", "2", "--nthreads", "1"], env=env,
                                          stdout=log, stderr=subprocess.STDOUT))
        p = subprocess.run([*CLI, PRODUCTS, tmp_path / "out", "--width", "800", "--height",
                            "800", "--cluster", sched_file, "--json"],
                           capture_output=True, text=True, timeout=300)
        # on a failure, what the scheduler and the workers said, and whether they still run
        said = "".join(f"\n--- {name} (exit status {proc.poll()}):\n{path.read_text()[-3000:]}"
                       for (name, path), proc in zip(logs.items(), procs, strict=True))
        assert p.returncode == 0, p.stderr[-3000:] + said
        assert json.loads(p.stdout)["summary"]["ok"] == 9
        (empty := tmp_path / "empty-path").mkdir()
        for optimizer in ("tools", "in-process"):
            p = subprocess.run([*CLI, PRODUCTS, tmp_path / optimizer, "--width", "400",
                                "--engine", "python", "--optimizer", optimizer, "--cluster",
                                sched_file, "--json"], env=dict(os.environ, PATH=str(empty)),
                               capture_output=True, text=True, timeout=300)
            if optimizer == "tools":  # on the workers' PATH, not on the caller's
                assert p.returncode == 0, p.stderr[-3000:]
                assert json.loads(p.stdout)["summary"]["ok"] == 9
            else:  # once, before a file is written; not 9 times "internal error"
                assert p.returncode == 2, p.stdout[-3000:] + p.stderr[-3000:]
                assert re.search(r"error: on the worker at tcp://\S+: the Python engine's "
                                 r"in-process optimiser needs the imagequant package", p.stderr)
                assert not (tmp_path / optimizer).exists()  # (dst was made before the check)
        # The cluster is left as found: the Go engine's plugin went with the runs.
        plugins = subprocess.run([sys.executable, "-c", "import sys; from distributed import "
                                  "Client; c = Client(scheduler_file=sys.argv[1]); print(sorted("
                                  "c.run_on_scheduler(lambda dask_scheduler: list("
                                  "dask_scheduler.worker_plugins))))", sched_file],
                                 capture_output=True, text=True, timeout=120)
        assert "piuma-go-engine" not in plugins.stdout, plugins.stdout + plugins.stderr
        assert plugins.stdout.startswith("["), plugins.stderr
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:  # pragma: no cover
                proc.kill()


def test_ctrl_c_cancels_closes_the_cluster_and_exits_130(tmp_path):
    src = src_of(tmp_path, copies=4)
    proc = subprocess.Popen([*AS_IN_A_TERMINAL, src,
                             tmp_path / "out", "--width", "800", "--cluster", "local:2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while not list((tmp_path / "out").rglob("*.jpg")) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGINT)
    start = time.monotonic()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    assert err.strip() == "optimize.py: interrupted", err  # quietly
    assert time.monotonic() - start < 30
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # a worker exiting now is a zombie for init to reap
        left = subprocess.run(["ps", "-o", "stat=,cmd=", "-s", str(proc.pid)],
                              capture_output=True, text=True).stdout.splitlines()
        if not [line for line in left if not line.lstrip().startswith("Z")]:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"processes outlived the CLI: {left}")


MOST = 4 * (os.cpu_count() or 1)


@pytest.mark.parametrize(("spec", "message"), [
    (f"local:{n}", f"cluster must be local, local:N (1 <= N <= {MOST}: 4 per CPU) or an "
                   f"address, not 'local:{n}'")
    for n in ("0", "x", MOST + 1, 10**6)  # (a typo must not start a million processes)
])
def test_bad_cluster_specs(spec, message, tmp_path):
    with pytest.raises(ValueError, match=re.escape(message)):
        optimize_dir(GOOD, tmp_path / "out", cluster=spec)


def test_a_script_without_a_main_guard_is_told_why(tmp_path):
    """spawn imports the caller's script again in each worker; a script that
    calls optimize_dir(cluster=...) at its top level then tries to start a
    cluster from every worker: Python's multiprocessing stops it, and says
    what to do (the README says it too). It fails; it does not hang."""
    script = tmp_path / "cron.py"
    script.write_text(f"import sys\nsys.path.insert(0, {str(HERE)!r})\nimport piuma\n"
                      f"piuma.optimize_dir({str(GOOD)!r}, {str(tmp_path / 'out')!r}, "
                      "cluster='local:1')\n")
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert p.returncode != 0
    assert "if __name__ == '__main__':" in p.stderr


def test_a_fifo_never_blocks_the_cli(tmp_path):
    """A FIFO (or /dev/zero) named like an image is that file's error: the
    probe opens it without blocking and refuses it before reading."""
    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / "upload.jpg")
    (src / "zero.jpg").symlink_to("/dev/zero")
    shutil.copy(GOOD / "baseline.jpg", src / "fine.jpg")
    p = subprocess.run([*CLI, src, tmp_path / "out", "--json"],
                       capture_output=True, text=True, timeout=60)
    errors = {os.path.basename(f["source"]): f["error"] for f in json.loads(p.stdout)["files"]}
    assert errors == {"upload.jpg": "unreadable: not a regular file",
                      "zero.jpg": "unreadable: not a regular file", "fine.jpg": None}


def test_an_interrupted_rerun_keeps_what_was_published(tmp_path):
    """A re-run with other options, cancelled half way, leaves the outputs it
    had not made again as they were."""
    src, dst = src_of(tmp_path, copies=2), tmp_path / "dst"  # 18 photos: seconds of work
    optimize_dir(src, dst, width=100)
    before = sorted(str(p.relative_to(dst)) for p in dst.rglob("*") if p.is_file())
    seen = []

    def cancel(done, total):
        seen.append(done)
        if done >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        optimize_dir(src, dst, width=120, workers=1, progress=cancel)
    assert seen[-1] < 18  # the test can fail: the batch was cancelled half way
    assert sorted(str(p.relative_to(dst)) for p in dst.rglob("*") if p.is_file()) == before


def test_a_source_in_another_chunks_output_folder_is_refused(tmp_path):
    """src/x a bind mount of dst/sub, the output folder of src/sub's chunk:
    a task compared its sources' folders with its own chunk's output folders
    only, and converted x/z.jpg (refused without a cluster) while the other
    chunk wrote over it. Now dst/sub is refused (a folder of src), so x/z.jpg,
    whose output is dst/x/z.jpg, is written, and its source left alone."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    for folder in (src / "sub", src / "x", dst / "sub"):
        folder.mkdir(parents=True)
    shutil.copy(GOOD / "baseline.jpg", src / "sub" / "y.jpg")
    shutil.copy(GOOD / "gray.jpg", dst / "sub" / "z.jpg")
    code = (f"import json, sys; sys.path[:0] = [{str(HERE)!r}]\nimport piuma\n"
            f"rs = piuma.optimize_dir({str(src)!r}, {str(dst)!r}, width=50, cluster='local:1')\n"
            f"print(json.dumps({{os.path.relpath(r.source, {str(src)!r}): r.error for r in rs}}))")
    p = subprocess.run(["unshare", "-m", "sh", "-c", f'mount --bind "{dst / "sub"}" '
                        f'"{src / "x"}" && exec "$@"', "sh", sys.executable, "-c",
                        "import os\n" + code], capture_output=True, text=True, timeout=300)
    if p.stderr.startswith(("mount:", "unshare:")):
        pytest.skip(f"no bind mount here (needs root): {p.stderr.strip()}")
    errors = json.loads(p.stdout.splitlines()[-1])  # (as without a cluster)
    assert errors["sub/y.jpg"].startswith("cannot write: the output folder "), errors
    assert errors["x/z.jpg"] is None, errors
    assert (dst / "sub" / "z.jpg").read_bytes() == (GOOD / "gray.jpg").read_bytes()
    assert (dst / "x" / "z.jpg").is_file()


def test_a_name_that_is_not_utf8_on_a_cluster(tmp_path):
    """Dask keys were built from file names: one not UTF-8 killed the run."""
    src = os.fsencode(tmp_path / "src")
    os.mkdir(src)
    shutil.copy(GOOD / "baseline.jpg", os.path.join(src, b"caf\xe9.jpg"))
    out = child(f"""
import piuma
rs = piuma.optimize_dir(os.fsdecode({src!r}), {str(tmp_path / "out")!r}, width=50,
                        cluster="local:1")
OUT = [(os.fsencode(r.source).hex(), r.error) for r in rs]
""")
    assert out == [[os.path.join(src, b"caf\xe9.jpg").hex(), None]]


@pytest.mark.parametrize("content", ["{garbage", '{"no": "address"}', '{"address": null}'])
def test_a_bad_scheduler_file_is_a_usage_error(content, tmp_path):
    """(A FIFO given as the scheduler file blocked the run for good.)"""
    (tmp_path / "scheduler.json").write_text(content)
    os.mkfifo(tmp_path / "fifo.json")
    for spec in (tmp_path / "scheduler.json", tmp_path / "missing" / "scheduler.json",
                 tmp_path / "fifo.json"):
        p = subprocess.run([*CLI, GOOD, tmp_path / "out", "--cluster", spec],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 2, p.stderr
        assert "is not a scheduler file Dask wrote" in p.stderr
        assert not (tmp_path / "out").exists()  # (made before the cluster was reached)


def test_a_worker_runs_a_file_a_thread_within_its_budget(monkeypatch):
    """A worker runs a task per thread: each task one file at a time, with a
    thread's share of half the worker's memory limit. (Each task ran
    nthreads files with the whole half: nthreads**2 files at once.)"""
    from piuma import Options, cluster

    class Worker:
        address = "tcp://w:1"
        state = type("State", (), {"nthreads": 4})
        memory_manager = type("Memory", (), {"memory_limit": 8 << 30})

    seen = []
    monkeypatch.setattr(cluster, "get_worker", Worker)
    monkeypatch.setattr(cluster, "convert", lambda *args, **kw: seen.append(args[3]) or [])
    cluster._task("/s", "/d", ["a.jpg"], Options(workers=8), set())
    cluster._task("/s", "/d", ["a.jpg"], Options(max_memory=4 << 30), set())
    assert [(o.workers, o.max_memory) for o in seen] == [(1, 1 << 30), (1, 1 << 30)]

    def fails(*args, **kw):
        raise FileNotFoundError("jpegoptim not found on PATH")

    monkeypatch.setattr(cluster, "convert", fails)  # a worker that joined without the tools
    [r] = cluster._task("/s", "/d", ["a.jpg"], Options(), set())
    assert (r.source, r.error) == ("/s/a.jpg", "internal error: on the worker at tcp://w:1: "
                                   "jpegoptim not found on PATH")


def test_a_bad_dst_is_found_before_the_cluster_is_reached(tmp_path):
    """(It was found once the plugin was registered and the workers checked;
    with no worker up, after 60 s of "no worker joined".)"""
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(FileExistsError, match="a file is in the way"):
        optimize_dir(GOOD, tmp_path / "file" / "out", cluster="tcp://127.0.0.1:9")
    (tmp_path / "loop").symlink_to("loop")
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        optimize_dir(GOOD, tmp_path / "loop" / "out", cluster="tcp://127.0.0.1:9")
    from piuma.cluster import GoEngine  # a batch's plugin: another batch's stays

    assert GoEngine().name != GoEngine().name


def test_a_cluster_without_workers_is_an_error_not_a_wait(tmp_path):
    sched_file = tmp_path / "scheduler.json"
    dask = [str(Path(sys.executable).with_name("dask"))]
    proc = subprocess.Popen([*dask, "scheduler", "--scheduler-file", sched_file, "--host",
                             "127.0.0.1", "--port", "0", "--dashboard-address", ":0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        out = child(f"""
import piuma.cluster
piuma.cluster.WORKERS_TIMEOUT = 2
try:
    piuma.optimize_dir({str(GOOD)!r}, {str(tmp_path / "out")!r}, cluster={str(sched_file)!r})
    OUT = "no error"
except TimeoutError as exc:
    OUT = str(exc)
""", timeout=120)
        assert out == f"no worker joined the cluster {str(sched_file)!r} in 2 s"
        assert not (tmp_path / "out").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


def test_a_lost_scheduler_is_its_files_error_and_the_report_is_written(tmp_path):
    """The scheduler goes away mid-run: the files whose tasks it took with it
    are "cancelled", the report is written, exit 1 (it was a traceback)."""
    sched_file, src, out = tmp_path / "scheduler.json", src_of(tmp_path, copies=4), tmp_path / "out"
    dask = [str(Path(sys.executable).with_name("dask"))]
    env = dict(os.environ, PYTHONPATH=str(HERE))
    procs = [subprocess.Popen([*dask, "scheduler", "--scheduler-file", sched_file, "--host",
                               "127.0.0.1", "--port", "0", "--dashboard-address", ":0"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        procs.append(subprocess.Popen([*dask, "worker", "--scheduler-file", sched_file,
                                       "--nthreads", "1"], env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        cli = subprocess.Popen([*CLI, src, out, "--width", "800", "--engine", "python",
                                "--cluster", sched_file, "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not any(out.rglob("*.jpg")) and time.monotonic() < deadline:
            time.sleep(0.05)
        procs[0].kill()  # the scheduler, after the first output
        stdout, stderr = cli.communicate(timeout=120)
        assert cli.returncode == 1, stderr[-3000:]
        report = json.loads(stdout)
        errors = {f["error"].split(":")[0] for f in report["files"] if f["error"]}
        assert errors == {"cancelled"}, errors  # (a chunk's results never came back)
        assert report["summary"]["ok"] < 36
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(30)
