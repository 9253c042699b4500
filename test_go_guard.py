"""The hard cases of common/go_guard.h: a Go runtime hidden every way we
could think of, and the note parser fuzzed.

test_one_runtime.py checks the rule between the steps. Here, the attacker is
a Go library that is not ours, loaded first, and the question is whether
every Go-backed module of the repository still refuses to import beside it,
naming it:

- built four ways: c-shared with Go's build ID note; without it
  (-ldflags=-buildid=); a c-archive linked into a .so that hides every symbol
  (-Wl,--exclude-libs,ALL), with and without build ID; one exporting a single
  function through a version script;
- loaded five ways: by absolute path; by a relative path, then os.chdir;
  from a file deleted once loaded; with dlmopen(LM_ID_NEWLM) into another
  link-map namespace (dl_iterate_phdr does not list it); from a memfd.

Then a step's own core deleted while loaded (`make clean` beside a live
kernel), the check a user can call for a Go library loaded AFTER (nothing
can refuse it), the guard's header included by two translation units, and
epg_notes_have_go, under AddressSanitizer, against crafted and mutated notes,
checked against go_runtimes.py's parser.

Every case runs in a fresh interpreter.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
from go_refusal import REFUSAL
from go_runtimes import BUILDINFO_MAGIC, notes_have_go

from test_one_runtime import ALL_MODULES, GO_MODULES, PRESENT

ROOT = Path(__file__).resolve().parent
COMMON = ROOT / "common"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the scan reads /proc (Linux)")

FOREIGN_GO = """package main

import "C"

//export Answer
func Answer() C.int { return 42 }

func main() {}
"""
# A C library that carries a Go archive and shows one function of its own.
WRAPPER_C = "extern int Answer(void);\nint wrapped_answer(void) { return Answer(); }\n"
VERSION_SCRIPT = "{ global: wrapped_answer; local: *; };\n"

BUILDS = ["c-shared", "c-shared, no build ID", "hidden symbols", "hidden, no build ID",
          "version script, no build ID"]


@pytest.fixture(scope="module")
def built():
    for step in PRESENT:
        subprocess.run(["make", "--no-print-directory", "-C", str(ROOT / step),
                        f"PYTHON={sys.executable}"], check=True, capture_output=True)


@pytest.fixture(scope="module")
def foreign(tmp_path_factory) -> dict[str, Path]:
    """Go libraries that are not ours, each built one way of BUILDS."""
    folder = tmp_path_factory.mktemp("foreign")
    (folder / "go.mod").write_text("module example.com/foreign\n\ngo 1.21\n")
    (folder / "main.go").write_text(FOREIGN_GO)
    (folder / "wrap.c").write_text(WRAPPER_C)
    (folder / "exports.map").write_text(VERSION_SCRIPT)

    def run(*args: str) -> None:
        subprocess.run(args, cwd=folder, check=True, capture_output=True, timeout=300)

    no_id = "-ldflags=-buildid="
    run("go", "build", "-buildmode=c-shared", "-o", "libshared.so", ".")
    run("go", "build", "-buildmode=c-shared", no_id, "-o", "libshared_noid.so", ".")
    run("go", "build", "-buildmode=c-archive", "-o", "libgo.a", ".")
    run("go", "build", "-buildmode=c-archive", no_id, "-o", "libgo_noid.a", ".")
    cc = ["cc", "-shared", "-fPIC", "wrap.c"]
    run(*cc, "libgo.a", "-Wl,--exclude-libs,ALL", "-lpthread", "-o", "libhidden.so")
    run(*cc, "libgo_noid.a", "-Wl,--exclude-libs,ALL", "-lpthread", "-o",
        "libhidden_noid.so")
    run(*cc, "libgo_noid.a", "-Wl,--version-script=exports.map", "-lpthread", "-o",
        "libscript.so")
    libraries = dict(zip(BUILDS, ["libshared.so", "libshared_noid.so", "libhidden.so",
                                  "libhidden_noid.so", "libscript.so"], strict=True))
    return {build: folder / name for build, name in libraries.items()}


GLIBC_HEAP_ABORT = ("malloc(", "free(", "realloc(", "corrupted ", "double free")


def run_child(code: str, cwd: Path = COMMON) -> subprocess.CompletedProcess:
    """A child process running code. A Go runtime dlmopen()ed into a new
    namespace runs its threads on a second copy of glibc, which glibc does not
    support: a bare `python -c` that only does that load aborted in malloc in
    1 run of 150 here, nothing of this repository imported. Such a child
    (SIGABRT, glibc's heap check's message) runs again, 3 times in all; any
    other death, or a third such abort, fails the test."""
    env = dict(os.environ, PYTHONPATH=str(COMMON))
    for _ in range(3):
        proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd,
                              capture_output=True, text=True, timeout=120, env=env)
        if not ("dlmopen(-1" in code and proc.returncode == -signal.SIGABRT
                and proc.stderr.startswith(GLIBC_HEAP_ABORT)):
            break
    return proc


def test_the_foreign_libraries_hide_what_they_should(foreign):
    """The attack is real: what `readelf` finds in each build (no note without
    build ID; no Go symbol, not even cgo's x_cgo_init, behind
    --exclude-libs or a version script)."""
    for build, library in foreign.items():
        notes = subprocess.run(["readelf", "-n", str(library)], capture_output=True,
                               text=True, check=True).stdout
        symbols = subprocess.run(["nm", "-D", "--defined-only", str(library)],
                                 capture_output=True, text=True, check=True).stdout
        assert ("GO BUILDID" in notes) == ("no build ID" not in build), build
        hidden = build != "c-shared" and build != "c-shared, no build ID"
        assert ("x_cgo_init" in symbols) == (not hidden), build
        assert BUILDINFO_MAGIC in library.read_bytes(), build


# How a foreign Go library gets loaded: code that runs in the child before
# the imports, and the path /proc/self/maps (so the refusal) names it by.
LOADERS = {
    "absolute path, then called": (  # its runtime runs: Answer, or the wrapper's
        "lib = ctypes.CDLL({lib!r}); "
        "assert (getattr(lib, 'Answer', None) or lib.wrapped_answer)() == 42", "{lib}"),
    "relative path, then chdir": (
        "os.chdir({folder!r}); ctypes.CDLL('./' + {name!r}); os.chdir('/')", "{lib}"),
    "deleted once loaded": (
        "copy = {tmp!r} + '/' + {name!r}; shutil.copy({lib!r}, copy); ctypes.CDLL(copy); "
        "os.unlink(copy)", "{tmp}/{name} (deleted)"),
    "dlmopen, new namespace": (
        "libc = ctypes.CDLL(None); libc.dlmopen.restype = ctypes.c_void_p; "
        "libc.dlmopen.argtypes = [ctypes.c_long, ctypes.c_char_p, ctypes.c_int]; "
        "assert libc.dlmopen(-1, {lib!r}.encode(), 2)  # LM_ID_NEWLM, RTLD_NOW", "{lib}"),
    "memfd": (
        "fd = os.memfd_create('epg-foreign'); os.write(fd, open({lib!r}, 'rb').read()); "
        "ctypes.CDLL(f'/proc/self/fd/{{fd}}')", "/memfd:epg-foreign (deleted)"),
}


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("build", BUILDS)
def test_a_hidden_go_runtime_is_refused_by_every_module(built, foreign, tmp_path, build,
                                                        loader):
    """A foreign Go library, however built and loaded, makes the import of
    every Go-backed module of the repository fail, naming it as mapped; no
    step core is loaded beside it. (Before: the note check required
    n_namesz == 3, Go writes 4; the fallback looked up x_cgo_init by name on
    disk: every build but the plain c-shared one, every loader but the
    absolute path, got a second runtime in.)"""
    library = foreign[build]
    fields = {"lib": str(library), "folder": str(library.parent), "name": library.name,
              "tmp": str(tmp_path)}
    load, shown = LOADERS[loader]
    proc = run_child(f"""
        import ctypes, importlib, os, shutil, sys
        from go_runtimes import go_runtimes
        {load.format(**fields)}
        for folder, module in {ALL_MODULES!r}:
            sys.path.insert(0, {str(ROOT)!r} + "/" + folder)
            try:
                importlib.import_module(module)
            except ImportError as exc:
                print(exc)
            else:
                print("imported", module)
            sys.path.pop(0)
        print(go_runtimes())
    """)
    assert proc.returncode == 0, proc.stderr
    *messages, runtimes = proc.stdout.splitlines()
    assert len(messages) == len(ALL_MODULES), proc.stdout
    for line, (_, module) in zip(messages, ALL_MODULES, strict=True):
        match = REFUSAL.match(line)
        assert match, line
        assert (match["new"], match["path"]) == (module, shown.format(**fields))
        assert match["owner"] is None
        assert match["foreign"]
    assert runtimes == str([shown.format(**fields)])  # and nothing else was loaded


@pytest.fixture
def step_copy(built, tmp_path) -> Path:
    """Step 02's module and core, copied: the test deletes them."""
    folder = tmp_path / "02"
    folder.mkdir()
    for path in (ROOT / "02_cgo_sum").glob("*newmath*.so"):
        shutil.copy(path, folder / path.name)
    return folder


@pytest.mark.skipif("03_cgo_strings" not in PRESENT, reason="step 03 not present")
def test_a_core_deleted_while_loaded_is_still_seen(step_copy):
    """`make clean` beside a live notebook kernel: the core is deleted, its
    runtime still runs. The guard, go_runtimes.py and the module's own check
    all see it ("(deleted)", by what is mapped); the next Go module is
    refused naming it and its module; rebuilding (`make`: new files, new
    inodes, at the same paths) and importing the module again gives back the
    running copy, not a second one."""
    core = step_copy / "libnewmath_core.so"
    proc = run_child(f"""
        import importlib.util, shutil, sys
        from go_runtimes import go_runtimes
        sys.path.insert(0, {str(step_copy)!r})
        import newmath
        shutil.copytree({str(step_copy)!r}, {str(step_copy)!r} + ".saved")
        shutil.rmtree({str(step_copy)!r})  # make clean
        print(newmath.go_runtimes())
        print(go_runtimes())
        sys.path.insert(0, {str(ROOT / "03_cgo_strings")!r})
        try:
            import hello
        except ImportError as exc:
            print(exc)
        shutil.copytree({str(step_copy)!r} + ".saved", {str(step_copy)!r})  # make
        spec = importlib.util.spec_from_file_location("newmath", newmath.__file__)
        again = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(again)
        print(again.sum(2, 3), go_runtimes())
    """)
    assert proc.returncode == 0, proc.stderr
    own, python, refusal, again = proc.stdout.splitlines()
    deleted = f"{core} (deleted)"
    assert own == python == str([deleted])
    match = REFUSAL.match(refusal)
    assert match, refusal
    assert (match["new"], match["path"], match["owner"]) == ("hello", deleted, "newmath")
    assert again == f"5 {[deleted]}"


# every Go-backed module with its own check, and the core it loads (06's
# module, rewritten in parallel, is left out)
CORE_OF = {folder: ROOT / folder / GO_MODULES[folder][1] for folder in PRESENT} | {
    "02_cgo_sum/variant_a": ROOT / "02_cgo_sum/variant_a/libnewmath_core.so",
    "02_cgo_sum/ffi": ROOT / "02_cgo_sum/libnewmath_core.so"}
CHECKABLE = [(folder, module) for folder, module in ALL_MODULES
             if not folder.startswith("06")]


@pytest.mark.parametrize(("folder", "module"), CHECKABLE)
def test_a_go_library_loaded_after_is_not_refused_but_seen(built, foreign, folder, module):
    """Nothing can refuse a later dlopen: a Go library loaded after a module
    (a ctypes-based package loading its Go code on first use) starts a second
    runtime, silently. Every Go-backed module's go_runtimes() shows it, as
    go_runtimes.py does."""
    later = foreign["hidden, no build ID"]
    proc = run_child(f"""
        import ctypes, sys
        from go_runtimes import go_runtimes
        sys.path.insert(0, {str(ROOT / folder)!r})
        import {module} as m
        print(m.go_runtimes() == go_runtimes() == [{str(CORE_OF[folder])!r}])
        ctypes.CDLL({str(later)!r})  # later: nothing refuses it
        print(sorted(m.go_runtimes()) == sorted(go_runtimes()) ==
              sorted([{str(CORE_OF[folder])!r}, {str(later)!r}]))
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["True", "True"]


def test_the_guard_header_links_from_two_translation_units(tmp_path):
    """go_guard.h used to define its owner record as a plain global: two .c
    files that include it did not link ("multiple definition"). Now one
    record per library (COMDAT), one per process (STB_GNU_UNIQUE)."""
    for name in ("a", "b"):
        (tmp_path / f"{name}.c").write_text(
            f'#include "go_guard.h"\nvoid *{name}(void) {{ return &epg_go_owner_state_v2; }}\n')
    (tmp_path / "main.c").write_text(
        "void *a(void); void *b(void);\nint main(void) { return a() != b(); }\n")
    flags = ["cc", "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{COMMON}"]
    subprocess.run([*flags, "-fPIC", "-shared", "-o", "libab.so", "a.c", "b.c", "-ldl"],
                   cwd=tmp_path, check=True, capture_output=True)
    subprocess.run([*flags, "-o", "ab", "main.c", "a.c", "b.c", "-ldl"],
                   cwd=tmp_path, check=True, capture_output=True)
    assert subprocess.run([str(tmp_path / "ab")]).returncode == 0  # one record
    symbols = subprocess.run(["readelf", "-sW", "--dyn-syms", str(tmp_path / "libab.so")],
                             capture_output=True, text=True, check=True).stdout
    record = [line.split() for line in symbols.splitlines()
              if line.endswith(" epg_go_owner_state_v2")]
    assert record, symbols
    assert all(fields[4] == "UNIQUE" for fields in record), symbols


def test_a_glue_whose_guard_records_are_not_exported_is_refused(built, tmp_path):
    """A version script exporting only PyInit_hello (common hardening) made
    the guard's records LOCAL: each module its own lock and fork mark, and
    two modules imported at once loaded two runtimes (3 runs in 8); gold's
    --no-gnu-unique made them GLOBAL, each library's own too. Such a glue is
    refused; one whose script lists the records imports."""
    include = subprocess.run([sys.executable, "-c", "import sysconfig; print(sysconfig."
                              "get_paths()['include'])"], capture_output=True, text=True,
                             check=True).stdout.strip()
    step = ROOT / "03_cgo_strings"
    out = {}
    listed = "{ global: PyInit_hello; epg_go_owner_state_v2; epg_go_fork_state_v1; local: *; };"
    builds = {"hidden": ["-Wl,--version-script=VS"], "listed": ["-Wl,--version-script=VS"]}
    if shutil.which("ld.gold"):  # (binutils') gold: plain GLOBAL, or bound to its own copy
        builds["gold-global"] = ["-fuse-ld=gold", "-Wl,--no-gnu-unique"]
        builds["gold-bsymbolic"] = ["-fuse-ld=gold", "-Wl,-Bsymbolic"]
    # Another library of the process uses the records first (as a glue imported
    # before would): a -Bsymbolic glue's code then uses a copy of its own.
    (tmp_path / "holder.c").write_text(
        '#include "go_guard.h"\nvoid *held(void) { return &epg_go_owner_state_v2; }\n'
        'void *mark(void) { return &epg_go_fork_state_v1; }\n')
    subprocess.run(["cc", "-std=gnu11", "-O2", "-fPIC", "-shared", f"-I{COMMON}", "-o",
                    str(tmp_path / "holder.so"), str(tmp_path / "holder.c"), "-ldl"],
                   check=True, capture_output=True)
    for name, flags in builds.items():
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(step / "libhello_core.so", folder)
        (folder / "vs.map").write_text(listed if name == "listed" else
                                       "{ global: PyInit_hello; local: *; };")
        so = folder / ("hello" + sysconfig.get_config_var("EXT_SUFFIX"))
        subprocess.run(["cc", "-std=gnu11", "-O2", "-fPIC", "-Wall", "-Wextra", "-Werror",
                        f"-I{include}", f"-I{COMMON}", f"-I{step}", "-shared",
                        *(f.replace("VS", str(folder / "vs.map")) for f in flags), "-o", str(so),
                        str(step / "hello.c"), "-ldl"], check=True, capture_output=True)
        proc = subprocess.run([sys.executable, "-c", f"import ctypes, sys; sys.path.insert(0, "
                               f"{str(folder)!r})\nctypes.CDLL({str(tmp_path / 'holder.so')!r})"
                               "\ntry:\n    import hello\n    print("
                               "hello.say_hello('x'))\nexcept ImportError as exc:\n"
                               "    print(exc)\n"], capture_output=True, text=True, timeout=60)
        out[name] = proc.stdout.strip()
    refused = ("cannot import hello: its guard's records (epg_go_owner_state_v2, "
               "epg_go_fork_state_v1) are not the process's, so they are this library's own "
               "and it cannot see another module's Go runtime: they must be exported "
               "STB_GNU_UNIQUE and used through the dynamic linker (a version script lists "
               "both under `global:`; not gold's --no-gnu-unique nor gold's or lld's "
               "-Bsymbolic)")
    assert out == {name: "Hello x" if name == "listed" else refused for name in builds}


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="needs root and unshare, to hide /proc")
def test_without_proc_the_guard_refuses_rather_than_guess(built):
    """No /proc, nothing to read what is mapped: the import fails, saying so,
    and loads nothing (it does not guess that no other runtime runs)."""
    code = (f"import sys; sys.path.insert(0, {str(ROOT / '03_cgo_strings')!r})\n"
            "try:\n    import hello\nexcept ImportError as exc:\n    print(exc)\n")
    proc = subprocess.run(["unshare", "--mount", "sh", "-c",
                           'mount -t tmpfs none /proc && exec "$0" -c "$1"',
                           sys.executable, code], capture_output=True, text=True, timeout=120)
    if "mount" in proc.stderr and proc.returncode != 0:
        pytest.skip(f"cannot hide /proc here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (
        "cannot import hello: cannot check this process for another Go runtime: "
        "/proc/self/maps or /proc/self/mem: No such file or directory")


# ---- the note parser, fuzzed --------------------------------------------------

HARNESS = r"""
#include "go_guard.h"
/* Records on stdin: align (u32), size (u32), size bytes of PT_NOTE content.
 * One verdict per record on stdout. Each content gets a buffer of its exact
 * size, so AddressSanitizer sees any read past it. */
int main(void)
{
    uint32_t head[2];
    while (fread(head, sizeof head, 1, stdin) == 1) {
        unsigned char *notes = malloc(head[1] ? head[1] : 1);
        if (fread(notes, 1, head[1], stdin) != head[1])
            return 2;
        printf("%d\n", epg_notes_have_go(notes, head[1], head[0]));
        free(notes);
    }
    return 0;
}
"""


def note(name: bytes, desc: bytes, kind: int, align: int = 4, namesz: int | None = None,
         descsz: int | None = None) -> bytes:
    """One ELF note, padded as the gABI says (from the note's start)."""
    head = struct.pack("=III", len(name) if namesz is None else namesz,
                       len(desc) if descsz is None else descsz, kind)
    body = head + name
    body += b"\0" * (-len(body) % align) + desc
    return body + b"\0" * (-len(body) % align)


GO = note(b"Go\0\0", b"x-Oj4nMHz_owb5dsx_06/Yg_I_xcVADXLVC4HON-p/UnGQzFFup9WRFOYo8ZJ4/1Blk1"
          b"4h5-NwvuK1cr4Gg", 4)
GNU = note(b"GNU\0", bytes(20), 3)
PROPERTY = note(b"GNU\0", bytes(16), 5, align=8)
CRAFTED = {
    # name: (align, content, expected)
    "Go's note as the linker writes it": (4, GO, True),
    "after the GNU build ID": (4, GNU + GO, True),
    "8-aligned segment": (8, note(b"Go\0\0", b"id", 4, align=8), True),
    "8-aligned, after a GNU property": (8, PROPERTY + note(b"Go\0\0", b"id", 4, 8), True),
    "p_align 0 counts as 4": (0, GNU + GO, True),
    "empty descriptor": (4, note(b"Go\0\0", b"", 4), True),
    "the old check's 3-byte name": (4, note(b"Go\0", b"id", 4), False),
    "wrong type": (4, note(b"Go\0\0", b"id", 1), False),
    "wrong owner": (4, note(b"Gp\0\0", b"id", 4), False),
    "owner without its padding NULs": (4, note(b"Goxx", b"id", 4), False),
    "only a GNU note": (4, GNU, False),
    "empty": (4, b"", False),
    "shorter than a header": (4, GO[:11], False),
    "header only": (4, GO[:12], False),
    "descriptor cut short": (4, GO[:-4], False),
    "namesz 0xffffffff": (4, note(b"Go\0\0", b"id", 4, namesz=0xFFFFFFFF), False),
    "descsz 0xffffffff": (4, note(b"Go\0\0", b"id", 4, descsz=0xFFFFFFFF), False),
    "a huge note before Go's": (4, note(b"GNU\0", b"", 3, descsz=0xFFFFFFF0) + GO, False),
    "descsz pointing into Go's": (4, note(b"GNU\0", b"", 3, descsz=len(GO)) + GO, False),
}


def mutations(seed: int, count: int) -> list[tuple[int, bytes]]:
    """Random edits of real-looking note segments: bit flips, cut or grown
    tails, length fields overwritten with edge values, notes shuffled."""
    rng = random.Random(seed)
    edges = [0, 1, 3, 4, 5, 7, 8, 11, 12, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF0, 0xFFFFFFFC,
             0xFFFFFFFF]
    pieces = [GO, GNU, note(b"Go\0\0", b"id", 4, 8), PROPERTY, note(b"Go\0", b"", 4)]
    cases = []
    for _ in range(count):
        align = rng.choice([0, 1, 4, 8, 16])
        data = bytearray(b"".join(rng.choices(pieces, k=rng.randint(0, 4))))
        for _ in range(rng.randint(0, 4)):
            what = rng.random()
            if data and what < 0.3:
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            elif len(data) >= 4 and what < 0.6:
                at = rng.randrange(0, len(data) - 3) & ~3
                data[at:at + 4] = struct.pack("=I", rng.choice(edges))
            elif what < 0.8:
                del data[rng.randrange(len(data) + 1):]
            else:
                data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 24)))
        cases.append((align, bytes(data)))
    return cases


@pytest.fixture(scope="module")
def harness(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "fuzz_notes.c").write_text(HARNESS)
    subprocess.run(["cc", "-std=gnu11", "-g", "-O1", "-Wall", "-Wextra", "-Werror",
                    "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                    f"-I{COMMON}", "-o", "fuzz_notes", "fuzz_notes.c", "-ldl"],
                   cwd=folder, check=True, capture_output=True)
    return folder / "fuzz_notes"


def verdicts(harness: Path, cases: list[tuple[int, bytes]]) -> list[bool]:
    data = b"".join(struct.pack("=II", align, len(content)) + content
                    for align, content in cases)
    proc = subprocess.run([str(harness)], input=data, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    return [line == b"1" for line in proc.stdout.splitlines()]


def test_the_note_parser_on_crafted_notes(harness):
    cases = list(CRAFTED.values())
    got = verdicts(harness, [(align, content) for align, content, _ in cases])
    expected = [want for _, _, want in cases]
    assert dict(zip(CRAFTED, got, strict=True)) == dict(zip(CRAFTED, expected, strict=True))
    assert [notes_have_go(content, align) for align, content, _ in cases] == expected


def test_the_note_parser_fuzzed(harness):
    """100,000 mutated note segments under AddressSanitizer and UBSan: no
    read past the buffer, no overflow, and the C parser agrees with
    go_runtimes.py's on every one (a seed per run, printed on failure)."""
    seed = random.randrange(2**32)
    cases = mutations(seed, 100_000)
    got = verdicts(harness, cases)
    assert len(got) == len(cases)
    disagree = [(align, content.hex()) for (align, content), verdict in zip(cases, got,
                                                                             strict=True)
                if verdict != notes_have_go(content, align)]
    assert not disagree, (seed, disagree[:5])
    assert 0 < sum(got) < len(got), seed  # both verdicts were exercised


def test_the_note_parser_on_real_notes(harness, built, foreign):
    """The PT_NOTE segments of real files: every step's core and every
    foreign build with a build ID carry Go's note; libc does not."""
    def pt_notes(path: Path) -> list[tuple[int, bytes]]:
        data = path.read_bytes()
        phoff, = struct.unpack_from("<Q", data, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
        out = []
        for i in range(phnum):
            kind, _, offset, _, _, filesz, _, align = struct.unpack_from(
                "<IIQQQQQQ", data, phoff + i * phentsize)
            if kind == 4:
                out.append((align, data[offset:offset + filesz]))
        return out

    files = {core: True for core in (ROOT / step / GO_MODULES[step][1] for step in PRESENT)}
    files.update({library: "no build ID" not in build for build, library in foreign.items()})
    libc = Path(subprocess.run(["cc", "-print-file-name=libc.so.6"], capture_output=True,
                               text=True, check=True).stdout.strip()).resolve()
    files[libc] = False
    for path, go in files.items():
        segments = pt_notes(path)
        assert any(verdicts(harness, segments)) == go, path
        assert any(notes_have_go(content, align) for align, content in segments) == go, path
