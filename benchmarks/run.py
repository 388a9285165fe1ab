"""Time celery-lint against ruff, flake8 and Fixit on real projects: wall time and peak memory.

    python benchmarks/run.py ~/.cache/celery-lint-corpus/* [--runs 5] [--jobs 2]
        [--tools cold,warm,changed,ruff,flake8,flake8-bare,fixit] [--baseline REF] [--output FILE]

Nothing is downloaded and the project folders are never written to. For each project, each round
runs every tool once as a whole command line in a subprocess (the order rotates from round to
round, so machine noise hits all tools alike):

  cold         celery-lint check PROJECT --exit-zero --no-cache --jobs N
  warm         celery-lint check PROJECT --exit-zero --cache-dir TMP --jobs N  (cache filled once,
               untimed, before the first round)
  changed      celery-lint check COPY/FILE --exit-zero --cache-dir TMP2: one file as pre-commit
               passes it, on a copy of the project whose cache is warm except for FILE, to which
               a different line is appended each round (FILE: the largest tasks.py, else the
               largest models.py, else the largest .py)
  ruff         ruff check --no-cache --exit-zero PROJECT  (its default rules; threads on all cores)
  flake8       flake8 -j N --exit-zero PROJECT  (with every installed plugin, celery-lint's included)
  flake8-bare  the same with celery-lint's flake8 plugin hidden (only when it is installed)
  fixit        fixit lint PROJECT  (exits 1 on findings; 2 when a file raised an exception)

--baseline REF also times celery-lint as it was at the git ref REF of this repository (its package
exported with `git archive`, as benchmarks/ecosystem.py does, and run as `PYTHONPATH=<folder>
python -m celery_lint`): a "cold (REF)" and a "warm (REF)" run (its own cache) beside cold and warm
in every round, and the ratios of the two, per project and over the sums of the medians. Before and
after are then measured in one run, under the same load. Both packages are compiled to bytecode
first, as pip does when it installs one: an editable install, or any run with
PYTHONDONTWRITEBYTECODE set, would otherwise compile the linter's source at every start.

Wall time is time.perf_counter() around each subprocess. Memory: a thread reads VmRSS from
/proc/PID/status for the process and all its descendants (by ppid, and by session) every
--sample-ms and keeps the largest sum (process pools count whole; never less than the largest
VmHWM seen, so a short peak between two samples counts), and os.wait4's ru_maxrss gives the largest
single process (Linux counts in it this script's own memory before the exec: the report gives that
floor). Prints progress to stderr and a Markdown report to stdout or --output.

celery-lint options the installed version does not know (--no-cache, --cache-dir, --jobs) are
left out with a note, so the script also measures older versions.
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import ecosystem  # beside this script: how a git ref is exported (`--baseline`)

TOOLS = ("cold", "warm", "changed", "ruff", "flake8", "flake8-bare", "fixit")
BASELINE_TOOLS = {"cold": "cold-base", "warm": "warm-base"}  # what --baseline adds beside a tool
PROJECT_MARKERS = ("manage.py", "pyproject.toml", "setup.py", "setup.cfg", ".git")
CELERY_LINT_OPTIONS = ("--no-cache", "--cache-dir", "--jobs")

# flake8 with celery-lint's plugin hidden: flake8 skips the distributions it lists as banned.
# Fork start method, so that flake8's worker processes keep the patched finder.
FLAKE8_BARE = """\
import multiprocessing, sys
import flake8.plugins.finder as finder
finder.BANNED_PLUGINS = {**finder.BANNED_PLUGINS, "celery-lint": "never"}
multiprocessing.set_start_method("fork", force=True)
from flake8.main.cli import main
sys.argv[0] = "flake8"
sys.exit(main())
"""


@dataclass
class Measurement:
    seconds: float
    tree_kb: int  # largest sum of VmRSS over the process tree, sampled
    maxrss_kb: int  # ru_maxrss from wait4: the largest single process
    exit_code: int
    stderr_tail: str
    exceptions: list[str]  # fixit's files that raised an exception
    # user + system CPU seconds from wait4: the process and the descendants it waited for (a
    # process pool's workers), steadier than wall time on a machine shared with others
    cpu: float = 0.0


@dataclass
class ToolRuns:
    key: str
    label: str
    command: list[str]  # shown in the report, with PROJECT/COPY placeholders
    ok_codes: frozenset[int]
    runs: list[Measurement] = field(default_factory=list)
    env: tuple[tuple[str, str], ...] = ()  # added to the environment (a baseline's PYTHONPATH)


@dataclass
class ProjectResult:
    name: str
    files: int
    lines: int
    changed_file: str
    tools: dict[str, ToolRuns] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- memory --------------------------------------------------------------------------------------

def _processes() -> list[tuple[int, int, int]]:
    """(pid, ppid, session) of every process, from /proc/*/stat."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                data = stat.read()
        except OSError:  # gone since listdir
            continue
        fields = data[data.rindex(b")") + 2:].split()  # the command name may hold spaces
        found.append((int(name), int(fields[1]), int(fields[3])))
    return found


def _memory_kb(pid: int) -> tuple[int, int]:
    """VmRSS and VmHWM (its peak since exec) of `pid`; 0, 0 when gone or a zombie."""
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    hwm = int(line.split()[1])
                elif line.startswith(b"VmRSS:"):
                    rss = int(line.split()[1])
                    break  # VmRSS comes after VmHWM
    except (OSError, ValueError, IndexError):
        pass
    return rss, hwm


def tree_memory_kb(root: int) -> tuple[int, int]:
    """The summed VmRSS of `root`, its descendants and the rest of its session (orphans), and
    the largest VmHWM among them."""
    children: dict[int, list[int]] = {}
    members = {root}
    for pid, ppid, session in _processes():
        children.setdefault(ppid, []).append(pid)
        if session == root:
            members.add(pid)
    stack = [root]
    while stack:
        pid = stack.pop()
        members.add(pid)
        stack.extend(child for child in children.get(pid, ()) if child not in members)
    memory = [_memory_kb(pid) for pid in members]
    return sum(rss for rss, _ in memory), max(hwm for _, hwm in memory)


class Sampler(threading.Thread):
    """Samples the tree of `pid` every `interval` s. Its peak is at least the largest VmHWM
    seen: a single process's peak between two samples still counts (a short run's)."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while True:
            self.peak_kb = max(self.peak_kb, *tree_memory_kb(self.pid))
            if self.stopping.wait(self.interval):
                return


def _tail(handle: IO[bytes], size: int = 2000) -> str:
    handle.seek(0, os.SEEK_END)
    handle.seek(max(0, handle.tell() - size))
    return handle.read().decode(errors="replace")


def measure(argv: list[str], cwd: Path, interval: float, exceptions: bool = False,
            env: tuple[tuple[str, str], ...] = ()) -> Measurement:
    """Run `argv`, timing it and sampling its process tree's memory. Its output goes to files,
    not into this process: a child's ru_maxrss counts this process's memory before the exec."""
    environment = {**os.environ, **dict(env)} if env else None
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=err, start_new_session=True, env=environment)
        sampler = Sampler(process.pid, interval)
        sampler.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:  # Ctrl-C: stop the tool and its workers too
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()
            raise
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        sampler.stopping.set()
        sampler.join()
        failed = []
        if exceptions:  # fixit prints `PATH: EXCEPTION: ...` for a file it could not lint
            out.seek(0)
            failed = [line.split(b": EXCEPTION: ")[0].decode(errors="replace")
                      for line in out if b": EXCEPTION: " in line]
        return Measurement(seconds, sampler.peak_kb, usage.ru_maxrss, process.returncode,
                           _tail(err), failed, usage.ru_utime + usage.ru_stime)


# --- the tools -----------------------------------------------------------------------------------

def executable(name: str) -> str | None:
    """`name` beside this Python (the venv's), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else shutil.which(name)


def celery_lint_command() -> list[str]:
    script = executable("celery-lint")
    return [script] if script else [sys.executable, "-m", "celery_lint"]


def output_of(argv: list[str], env: tuple[tuple[str, str], ...] = ()) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120,
                              env={**os.environ, **dict(env)})
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"(failed: {error})"
    return " ".join((done.stdout + done.stderr).split()) or f"(exit {done.returncode})"


def known_options(celery_lint: list[str], env: tuple[tuple[str, str], ...] = ()) -> set[str]:
    """The options of CELERY_LINT_OPTIONS that `celery-lint check` knows."""
    text = subprocess.run([*celery_lint, "check", "--help"], capture_output=True, text=True,
                          check=False, env={**os.environ, **dict(env)}).stdout
    return {option for option in CELERY_LINT_OPTIONS
            if re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text)}


def interpreter_of(script: str) -> str:
    """The Python in `script`'s #! line (the flake8 of another venv), else this one."""
    try:
        with open(script, "rb") as handle:
            first = handle.readline().decode(errors="replace").strip()
    except OSError:
        return sys.executable
    if first.startswith("#!") and "python" in first and " " not in first[2:].strip():
        return first[2:].strip()
    return sys.executable


@dataclass
class Setup:
    """What the tools need, found once."""

    celery_lint: list[str]
    options: set[str]
    ruff: str | None
    flake8: str | None
    flake8_bare: list[str] | None  # argv prefix, None when celery-lint's plugin is not in flake8
    fixit: str | None
    versions: dict[str, str]
    notes: list[str]
    # the baseline: its name (the ref and its commit) and PYTHONPATH; None without --baseline
    baseline: tuple[str, tuple[tuple[str, str], ...]] | None = None


def compile_package(folder: Path) -> None:
    """Write the bytecode of the Python files under `folder`, as pip does when it installs a
    package: otherwise, with PYTHONDONTWRITEBYTECODE set (or a folder Python cannot write to),
    every run compiles the linter's source first, and a version with more code seems slower."""
    compileall.compile_dir(str(folder), quiet=1)


def installed_package(celery_lint: list[str]) -> Path | None:
    """The folder of the celery_lint package the command `celery_lint` runs."""
    python = celery_lint[0] if celery_lint[1:2] == ["-m"] else interpreter_of(celery_lint[0])
    code = "import celery_lint, os; print(os.path.dirname(celery_lint.__file__))"
    folder = output_of([python, "-c", code])
    return Path(folder) if Path(folder).is_dir() else None


def baseline_of(ref: str, into: Path) -> tuple[str, tuple[tuple[str, str], ...]]:
    """celery-lint at the git ref `ref`, exported into `into` and compiled: its name and
    environment."""
    sha = ecosystem._git("rev-parse", "--short", f"{ref}^{{commit}}")
    ecosystem.export_ref(ref, into)
    compile_package(into / "celery_lint")
    env = (("PYTHONPATH", str(into)),)
    options = known_options([sys.executable, "-m", "celery_lint"], env)
    if "--no-cache" not in options or "--cache-dir" not in options:
        raise SystemExit(f"run.py: celery-lint at {ref} has no --no-cache or --cache-dir: "
                         "a baseline needs both")
    return (ref if ref == sha else f"{ref} {sha}"), env


def find_tools() -> Setup:
    celery_lint = celery_lint_command()
    options = known_options(celery_lint)
    notes = []
    missing = [option for option in CELERY_LINT_OPTIONS if option not in options]
    if missing:
        notes.append(f"this celery-lint has no {', '.join(missing)}: left out of its commands"
                     + (" (so the warm and changed-file runs use the copy's own cache folder, "
                        "and warm sees the changed file's edits)"
                        if "--cache-dir" in missing else ""))
    ruff, flake8, fixit = executable("ruff"), executable("flake8"), executable("fixit")
    versions = {"celery-lint": output_of([*celery_lint, "--version"])}
    for name, path in (("ruff", ruff), ("flake8", flake8), ("fixit", fixit)):
        versions[name] = output_of([path, "--version"]) if path else "not installed"
    flake8_bare = None
    if flake8 and "celery-lint" in versions["flake8"]:
        prefix = [interpreter_of(flake8), "-c", FLAKE8_BARE]
        bare_version = output_of([*prefix, "--version"])
        if "celery-lint" not in bare_version and "failed" not in bare_version:
            flake8_bare = prefix
        else:
            notes.append(f"could not hide celery-lint's flake8 plugin: {bare_version}")
    return Setup(celery_lint, options, ruff, flake8, flake8_bare, fixit, versions, notes)


def tool_runs(setup: Setup, jobs: int) -> dict[str, ToolRuns]:
    """Every tool available, its command with placeholders (PROJECT, COPY, FILE, CACHE...)."""
    cl, has = setup.celery_lint, setup.options
    jobs_option = ["--jobs", str(jobs)] if "--jobs" in has else []
    cache = ["--cache-dir", "CACHE"] if "--cache-dir" in has else []
    no_cache = ["--no-cache"] if "--no-cache" in has else []
    # Without --no-cache or --cache-dir, a cache (if the version has one) is written into the
    # folder checked: check a copy instead (for cold, one whose cache is removed before each run).
    warm_target = "PROJECT" if cache else "COPY"
    tools = {
        "cold": ToolRuns("cold", "celery-lint cold",
                         [*cl, "check", "PROJECT" if no_cache else "COLDCOPY", "--exit-zero",
                          *no_cache, *jobs_option],
                         frozenset({0})),
        "warm": ToolRuns("warm", "celery-lint warm",
                         [*cl, "check", warm_target, "--exit-zero", *cache, *jobs_option],
                         frozenset({0})),
        "changed": ToolRuns("changed", "celery-lint, 1 changed file",
                            [*cl, "check", "COPY/FILE", "--exit-zero",
                             *(["--cache-dir", "CACHE2"] if cache else [])],
                            frozenset({0})),
    }
    if setup.baseline is not None:
        name, env = setup.baseline
        base = [sys.executable, "-m", "celery_lint"]
        tools["cold-base"] = ToolRuns("cold-base", f"celery-lint cold ({name})",
                                      [*base, "check", "PROJECT", "--exit-zero", "--no-cache",
                                       *jobs_option], frozenset({0}), env=env)
        tools["warm-base"] = ToolRuns("warm-base", f"celery-lint warm ({name})",
                                      [*base, "check", "PROJECT", "--exit-zero", "--cache-dir",
                                       "CACHEB", *jobs_option], frozenset({0}), env=env)
    if setup.ruff:
        tools["ruff"] = ToolRuns("ruff", "ruff (no cache)",
                                 [setup.ruff, "check", "--no-cache", "--exit-zero", "PROJECT"],
                                 frozenset({0}))
    if setup.flake8:
        label = f"flake8 -j {jobs}" + (" (with CEL plugin)" if setup.flake8_bare else "")
        tools["flake8"] = ToolRuns("flake8", label,
                                   [setup.flake8, "-j", str(jobs), "--exit-zero", "PROJECT"],
                                   frozenset({0}))
    if setup.flake8_bare:
        tools["flake8-bare"] = ToolRuns(
            "flake8-bare", f"flake8 -j {jobs} (CEL plugin hidden)",
            [*setup.flake8_bare, "-j", str(jobs), "--exit-zero", "PROJECT"], frozenset({0}))
    if setup.fixit:
        tools["fixit"] = ToolRuns("fixit", "fixit lint", [setup.fixit, "lint", "PROJECT"],
                                  frozenset({0, 1}))
    return tools


def shown(argv: list[str]) -> str:
    """A command for the report: the venv's paths shortened to the program's name."""
    parts = []
    for arg in argv:
        if arg == FLAKE8_BARE:
            parts.append("'<flake8 with celery-lint in BANNED_PLUGINS>'")
        elif os.sep in arg and Path(arg).name in {"celery-lint", "ruff", "flake8", "fixit"}:
            parts.append(Path(arg).name)
        elif os.sep in arg and Path(arg).name.startswith("python"):
            parts.append("python")
        else:
            parts.append(shlex.quote(arg))
    return " ".join(parts)


# --- one project ---------------------------------------------------------------------------------

def python_files(folder: Path) -> list[Path]:
    found = []
    for directory, subdirectories, files in os.walk(folder):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        found += [Path(directory, name) for name in sorted(files) if name.endswith(".py")]
    return found


def count_lines(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        data = path.read_bytes()
        total += data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    return total


TASK_DECORATOR = re.compile(rb"@(\w+\.)*(shared_task|task)\b")


def changed_file_of(files: list[Path]) -> Path:
    """The file to change: the largest tasks.py that declares Celery tasks (else any tasks.py),
    else the largest models.py, else the largest file."""
    for name in ("tasks.py", "models.py", None):
        candidates = [path for path in files if name is None or path.name == name]
        if candidates:
            return max(candidates, key=lambda path: (
                name == "tasks.py" and bool(TASK_DECORATOR.search(path.read_bytes())),
                path.stat().st_size, str(path)))
    raise ValueError("no Python file")


def prepare_copy(project: Path, copy: Path) -> str | None:
    """Copy the project; give the copy a project marker if it has none (as a repository has)."""
    shutil.copytree(project, copy, symlinks=True)
    if not any((copy / marker).exists() for marker in PROJECT_MARKERS):
        (copy / "pyproject.toml").write_text("")
        return ("the copy got an empty pyproject.toml at its top, so that celery-lint finds the "
                "project root from the file (as in a repository); the project folder has none")
    return None


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def substitute(argv: list[str], places: dict[str, str]) -> list[str]:
    out = []
    for arg in argv:
        for placeholder in ("COPY/FILE", "PROJECT", "COPY", "COLDCOPY", "CACHE2", "CACHEB",
                            "CACHE"):
            if arg == placeholder:
                arg = places[placeholder]
                break
        out.append(arg)
    return out


def run_project(project: Path, tools: dict[str, ToolRuns], selected: list[str], runs: int,
                work: Path, interval: float, jobs_option: list[str],
                known: set[str]) -> ProjectResult:
    files = python_files(project)
    target = changed_file_of(files)
    relative = target.relative_to(project)
    result = ProjectResult(project.name, len(files), count_lines(files), str(relative))
    for key in selected:
        template = tools[key]
        result.tools[key] = ToolRuns(key, template.label, template.command, template.ok_codes,
                                     env=template.env)
    cwd = work / "cwd"  # an empty folder: no tool reads a configuration from the current folder
    cwd.mkdir(exist_ok=True)
    copy, cache, cache2 = work / "copy" / project.name, work / "cache", work / "cache-copy"
    cache_base = work / "cache-base"
    has_cache_dir = "--cache-dir" in known
    before = {entry.name for entry in project.iterdir()}
    needs_copy = "changed" in selected or ("warm" in selected and not has_cache_dir)
    if needs_copy:
        progress(f"{project.name}: copying the project")
        note = prepare_copy(project, copy)
        if note:
            result.notes.append(note)
    cold_copy = work / "copy-cold" / project.name
    if "cold" in selected and "--no-cache" not in known:
        shutil.copytree(project, cold_copy, symlinks=True)
        result.notes.append("celery-lint cold checked a copy of the project (no --no-cache: "
                            "whatever the run adds to the copy's top is removed before each run)")
    places = {"PROJECT": str(project), "COPY": str(copy), "COPY/FILE": str(copy / relative),
              "COLDCOPY": str(cold_copy), "CACHE": str(cache), "CACHE2": str(cache2),
              "CACHEB": str(cache_base)}
    celery_lint = tools["cold"].command[:tools["cold"].command.index("check")]
    cache_option = ["--cache-dir", str(cache)] if has_cache_dir else []
    if "warm" in selected:
        progress(f"{project.name}: filling the cache (untimed)")
        target_folder = str(project) if has_cache_dir else str(copy)
        fill = measure([*celery_lint, "check", target_folder, "--exit-zero", *cache_option,
                        *jobs_option], cwd, interval)
        if fill.exit_code:
            result.notes.append(f"filling the cache failed (exit {fill.exit_code}): "
                                f"{fill.stderr_tail.strip()[-300:]}")
    if "warm-base" in selected:
        progress(f"{project.name}: filling the baseline's cache (untimed)")
        base = tools["warm-base"]
        fill = measure(substitute(base.command, places), cwd, interval, env=base.env)
        if fill.exit_code:
            result.notes.append(f"filling the baseline's cache failed (exit {fill.exit_code}): "
                                f"{fill.stderr_tail.strip()[-300:]}")
    if "changed" in selected:
        progress(f"{project.name}: filling the copy's cache (untimed)")
        fill = measure([*celery_lint, "check", str(copy), "--exit-zero",
                        *(["--cache-dir", str(cache2)] if has_cache_dir else []), *jobs_option],
                       cwd, interval)
        if fill.exit_code:
            result.notes.append(f"filling the copy's cache failed (exit {fill.exit_code}): "
                                f"{fill.stderr_tail.strip()[-300:]}")
    original = (copy / relative).read_bytes() if "changed" in selected else b""
    for round_number in range(runs):
        shift = round_number % len(selected)
        for key in selected[shift:] + selected[:shift]:
            if key == "cold" and "--no-cache" not in known:
                for entry in cold_copy.iterdir():
                    if entry.name not in before:
                        remove(entry)
            if key == "changed":
                suffix = b"" if original.endswith(b"\n") or not original else b"\n"
                (copy / relative).write_bytes(
                    original + suffix + f"x_bench = {round_number + 1}\n".encode())
            runs_of = result.tools[key]
            measurement = measure(substitute(runs_of.command, places), cwd, interval,
                                  exceptions=key == "fixit", env=runs_of.env)
            runs_of.runs.append(measurement)
            flag = "" if measurement.exit_code in runs_of.ok_codes else \
                f", exit {measurement.exit_code}!"
            progress(f"{project.name} round {round_number + 1}/{runs}: {runs_of.label}: "
                     f"{measurement.seconds:.2f} s, {measurement.tree_kb / 1024:.0f} MB{flag}")
    appeared = {entry.name for entry in project.iterdir()} - before
    if appeared:
        result.notes.append(f"written into the project folder during the run: "
                            f"{', '.join(sorted(appeared))} (should not happen)")
    shutil.rmtree(work / "copy", ignore_errors=True)
    shutil.rmtree(work / "copy-cold", ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(cache2, ignore_errors=True)
    shutil.rmtree(cache_base, ignore_errors=True)
    return result


# --- the report ----------------------------------------------------------------------------------

def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def wall(runs: ToolRuns) -> float:
    return median([m.seconds for m in runs.runs])


def cpu(runs: ToolRuns) -> float:
    return median([m.cpu for m in runs.runs])


def total(results: list[ProjectResult], key: str,
          of: Callable[[ToolRuns], float] = wall) -> float:
    """The sum over the projects of a tool's median wall time (or `of` another measure)."""
    return sum(of(result.tools[key]) for result in results)


def seconds_text(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def problems_of(runs: ToolRuns) -> list[str]:
    found = []
    for number, m in enumerate(runs.runs, 1):
        if m.exit_code not in runs.ok_codes:
            tail = " | ".join(m.stderr_tail.strip().splitlines()[-3:]) or "(no stderr)"
            found.append(f"{runs.label}, round {number}: exit {m.exit_code}: {tail}")
    if runs.key == "fixit" and runs.runs:
        exceptions = sorted(set(runs.runs[0].exceptions))
        if exceptions:
            found.append(f"fixit raised an exception on {len(exceptions)} file(s) (exit code 2), "
                         f"e.g. {', '.join(Path(p).name for p in exceptions[:3])}")
    return found


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def memory_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GB RAM"
    except OSError:
        pass
    return "unknown RAM"


def report(results: list[ProjectResult], setup: Setup, tools: dict[str, ToolRuns],
           selected: list[str], command: str, runs: int, interval: float,
           load: tuple[float, float]) -> str:
    usable = len(os.sched_getaffinity(0))
    own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        f"## Speed: celery-lint, ruff, flake8 and Fixit ({datetime.date.today().isoformat()})",
        "",
        f"- Command: `{command}`",
        (f"- Machine: {cpu_model()}, {os.cpu_count()} cores ({usable} usable), "
         f"{memory_total()}, {platform.system()} {platform.release()}; "
         f"Python {platform.python_version()}; load average (1 min) {load[0]:.2f} at the "
         f"start, {load[1]:.2f} at the end"),
        "- Versions: " + "; ".join(
            f"{name} {re.sub(rf'^{re.escape(name)},? (version )?', '', version)}"
            for name, version in setup.versions.items()),
        (f"- {runs} round(s); each round runs every tool once, in an order that rotates per "
         f"round. Wall: median (min–max) of `time.perf_counter()` around the subprocess. Peak "
         f"RSS: the largest sum of VmRSS over the process and its descendants, sampled every "
         f"{interval * 1000:.0f} ms, and at least the largest VmHWM seen (median over rounds; "
         f"the pages a forked worker shares with its parent count in both). Largest process: "
         f"`ru_maxrss` from `os.wait4` (median; Linux counts in it the parent's memory before "
         f"the exec, so it is never below this script's {own_mb:.0f} MB)."),
        ("- Commands (PROJECT the corpus folder, COPY a copy of it, FILE the changed file, "
         "CACHE a temporary folder):"),
    ]
    lines += [f"  - {tools[key].label}: `{shown(tools[key].command)}`" for key in selected]
    lines += [f"- Note: {note}" for note in setup.notes]
    lines += ["", ("| project | Python files | lines | tool | wall (median) | min–max | "
                   "CPU (median) | peak RSS, tree | largest process |"),
              "|---|---:|---:|---|---:|---:|---:|---:|---:|"]
    for result in results:
        first = True
        for key in selected:
            runs_of = result.tools[key]
            seconds = [m.seconds for m in runs_of.runs]
            bad = sorted({m.exit_code for m in runs_of.runs} - runs_of.ok_codes)
            flag = f" (exit {', '.join(map(str, bad))})" if bad else ""
            head = [result.name, f"{result.files:,}", f"{result.lines:,}"] if first else \
                ["", "", ""]
            first = False
            lines.append("| " + " | ".join([
                *head, runs_of.label + flag, f"{seconds_text(median(seconds))} s",
                f"{seconds_text(min(seconds))}–{seconds_text(max(seconds))}",
                f"{seconds_text(cpu(runs_of))} s",
                f"{median([m.tree_kb / 1024 for m in runs_of.runs]):.0f} MB",
                f"{median([m.maxrss_kb / 1024 for m in runs_of.runs]):.0f} MB"]) + " |")
    ratios = [("celery-lint cold / ruff", "cold", "ruff"),
              ("flake8 / celery-lint cold", "flake8", "cold"),
              ("flake8 (CEL hidden) / celery-lint cold", "flake8-bare", "cold"),
              ("fixit / celery-lint cold", "fixit", "cold"),
              ("celery-lint warm / ruff cold", "warm", "ruff"),
              ("1 changed file / ruff cold", "changed", "ruff")]
    if setup.baseline is not None:
        name = setup.baseline[0]
        ratios = [(f"cold / cold ({name})", "cold", "cold-base"),
                  (f"warm / warm ({name})", "warm", "warm-base"), *ratios]
    ratios = [r for r in ratios if r[1] in selected and r[2] in selected]
    if ratios:
        lines += ["", "Ratios of the median wall times:", "",
                  "| project | " + " | ".join(r[0] for r in ratios) + " |",
                  "|---|" + "---:|" * len(ratios)]
        for result in results:
            cells = [f"{wall(result.tools[a]) / wall(result.tools[b]):.2f}"
                     for _, a, b in ratios]
            lines.append(f"| {result.name} | " + " | ".join(cells) + " |")
        if len(results) > 1:
            cells = [f"{total(results, a) / total(results, b):.2f}" for _, a, b in ratios]
            lines.append("| all projects (sums of the medians) | " + " | ".join(cells) + " |")
    if setup.baseline is not None:
        # on a machine shared with others wall time moves with their load; CPU time less so
        pairs = [(key, f"{key}-base") for key in ("cold", "warm")
                 if key in selected and f"{key}-base" in selected]
        lines += ["", "Ratios of the median CPU times (user + system, the process and its pool):",
                  "", "| project | " + " | ".join(
                      f"{key} / {key} ({setup.baseline[0]})" for key, _ in pairs) + " |",
                  "|---|" + "---:|" * len(pairs)]
        for result in results:
            lines.append(f"| {result.name} | " + " | ".join(
                f"{cpu(result.tools[a]) / cpu(result.tools[b]):.2f}" for a, b in pairs) + " |")
        if len(results) > 1:
            lines.append("| all projects (sums of the medians) | " + " | ".join(
                f"{total(results, a, cpu) / total(results, b, cpu):.2f}" for a, b in pairs)
                + " |")
    details = []
    for result in results:
        if "changed" in selected:
            details.append(f"{result.name}: the changed file is `{result.changed_file}`")
        details += [f"{result.name}: {note}" for note in result.notes]
        for key in selected:
            details += [f"{result.name}: {problem}" for problem in problems_of(result.tools[key])]
    if details:
        lines += ["", *[f"- {detail}" for detail in details]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="+", type=Path, help="project folders (not modified)")
    parser.add_argument("--runs", type=int, default=5, help="rounds per project (default 5)")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)),
                        help="processes for celery-lint and flake8 (default: the usable cores)")
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help=f"comma-separated subset of {','.join(TOOLS)} (default: all)")
    parser.add_argument("--sample-ms", type=float, default=20.0,
                        help="memory sampling interval in milliseconds (default 20)")
    parser.add_argument("--baseline", metavar="REF",
                        help="also time celery-lint at this git ref (cold and warm) beside the "
                             "installed one, in the same rounds")
    parser.add_argument("--output", type=Path, help="write the Markdown report here")
    options = parser.parse_args(argv)
    wanted = [key.strip() for key in options.tools.split(",") if key.strip()]
    unknown = [key for key in wanted if key not in TOOLS]
    if unknown or not wanted or options.runs < 1:
        parser.error(f"unknown tools: {', '.join(unknown)}" if unknown else
                     "--tools must name at least one tool" if not wanted else "--runs must be ≥ 1")
    projects = [project.resolve() for project in options.projects]
    for project in projects:
        if not project.is_dir():
            parser.error(f"not a folder: {project}")
        if not python_files(project):
            parser.error(f"no Python file in {project}")
    setup = find_tools()
    package = installed_package(setup.celery_lint)
    if package is not None:  # an editable install's source has no bytecode until it runs
        compile_package(package)
    for note in setup.notes:
        progress(f"note: {note}")
    baseline_folder = Path(tempfile.mkdtemp(prefix="celery-lint-baseline-"))
    if options.baseline:
        setup.baseline = baseline_of(options.baseline, baseline_folder)
        setup.versions[f"celery-lint ({setup.baseline[0]})"] = output_of(
            [sys.executable, "-m", "celery_lint", "--version"], setup.baseline[1]).replace(
                "celery-lint, version ", "")
    tools = tool_runs(setup, options.jobs)
    selected = [name for key in TOOLS if key in wanted and key in tools
                for name in (key, BASELINE_TOOLS.get(key)) if name in tools]
    for key in wanted:
        if key not in tools:
            message = ("celery-lint's flake8 plugin is not installed: flake8 is already bare"
                       if key == "flake8-bare" else "not installed")
            setup.notes.append(f"{key} left out: {message}")
            progress(f"note: {key} left out: {message}")
    if not selected:
        parser.error("none of the tools asked for is installed")
    interval = options.sample_ms / 1000
    jobs_option = ["--jobs", str(options.jobs)] if "--jobs" in setup.options else []
    results = []
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="celery-lint-bench-") as temporary:
        for project in projects:
            results.append(run_project(project, tools, selected, options.runs, Path(temporary),
                                       interval, jobs_option, setup.options))
    command = " ".join(["python", "benchmarks/run.py", *map(shlex.quote, sys.argv[1:])]
                       if argv is None else ["python", "benchmarks/run.py", *argv])
    text = report(results, setup, tools, selected, command, options.runs, interval,
                  (load_start, os.getloadavg()[0]))
    if options.output:
        options.output.write_text(text)
        progress(f"wrote {options.output}")
    else:
        print(text, end="")
    shutil.rmtree(baseline_folder, ignore_errors=True)
    failed = any(m.exit_code not in runs_of.ok_codes
                 for result in results for runs_of in result.tools.values() for m in runs_of.runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
