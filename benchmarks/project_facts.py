"""Print what celery-lint reads from real projects: their Celery apps, tasks and settings modules.

    python benchmarks/project_facts.py ~/.cache/celery-lint-corpus/* [--jobs 2]

For each project folder, as `celery-lint check` would load it (its configuration, no cache):
  - every Celery app found: module, line, and how it is made: `direct` (`Celery(...)`),
    `subclass` (a project class deriving from Celery), `factory` (a function that builds and
    returns one), `used` (a module-level object the module configures as an app: its maker is
    not in the project); and each package that re-exports an app (`re-export`);
  - the number of tasks found;
  - where the settings come from: the app chosen, the source (django / module / app), the
    namespace, and the production settings modules chosen, with the notes on what is unknown;
  - the Celery the settings are judged by, and where that was read.

It only reads facts (phase 1 and the index): no rule runs. Run it with `PYTHONPATH` set to a
checkout to see that revision's facts (an older one prints `-` for how an app was made).
The output is Markdown, one section per project.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from celery_lint.config import load_config
from celery_lint.runner import default_jobs, load_project


def project_facts(folder: Path, jobs: int) -> list[str]:
    """The Markdown lines describing one project."""
    config = load_config(folder)
    index = load_project([folder], config, jobs=jobs).index
    root = folder.absolute()
    lines = [f"## {folder.name}", "", "| app | module | line | how |", "|---|---|---|---|"]
    apps = {app.qualname: app for app in index.apps}

    def where(module: str) -> str:
        facts = index.files.get(module)
        if facts is None:
            return module
        path = Path(facts.path)
        return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)

    for app in index.apps:
        module, _, name = app.qualname.rpartition(".")
        lines.append(f"| `{name}` | `{module}` ({where(module)}) | {app.line} | "
                     f"{getattr(app, 'how', '-')} |")
    for module, facts in sorted(index.files.items()):
        if not facts.is_package:
            continue
        for local, target in sorted(facts.imports.items()):
            resolved = index.resolve(f"{module}.{local}")
            if resolved in apps and resolved != f"{module}.{local}":
                lines.append(f"| `{local}` | `{module}` ({where(module)}) | | "
                             f"re-export of `{resolved}` |")
    if not apps:
        lines.append("| (none) | | | |")
    settings = index.settings
    chosen = settings.app.qualname if settings.app is not None else "none"
    production = ", ".join(f"`{m}`" for m in settings.production) or "none"
    lines += ["", f"- tasks found: {len(index.tasks)}",
              (f"- settings: app `{chosen}`, source {settings.source}, namespace "
               f"{settings.namespace!r}, production modules: {production}")]
    lines.append(f"- judged by: {index.celery.label}")
    lines += [f"- note: {note}" for note in settings.notes]
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("projects", nargs="+", type=Path, help="project folders")
    parser.add_argument("--jobs", type=int, default=default_jobs(),
                        help="processes for reading files (default: the CPUs)")
    options = parser.parse_args(argv)
    for folder in options.projects:
        if not folder.is_dir():
            print(f"project_facts: not a folder: {folder}", file=sys.stderr)
            return 2
        print("\n".join(project_facts(folder, options.jobs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
