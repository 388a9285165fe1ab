"""The command line: options in, one runner call, a formatter out, an exit code."""

from __future__ import annotations

import collections
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from celery_lint import __version__
from celery_lint.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from celery_lint.cache import Cache
    from celery_lint.codes import RuleInfo

EXIT_CLEAN, EXIT_DIAGNOSTICS, EXIT_ERROR = 0, 1, 2
OUTPUT_FORMATS = ("full", "concise", "json", "sarif", "github", "gitlab", "junit")


NO_CACHE = click.option(
    "--no-cache", is_flag=True, envvar="CELERY_LINT_NO_CACHE",
    help="Read every file afresh; neither use nor write the cache.")
CACHE_DIR = click.option(
    "--cache-dir", type=click.Path(path_type=Path, file_okay=False), envvar="CELERY_LINT_CACHE_DIR",
    help="The cache folder (default: .celery_lint_cache beside pyproject.toml, else in the "
         "project folder).")
JOBS = click.option(
    "--jobs", "-j", type=click.IntRange(min=1), metavar="N",
    help="Processes for large runs (default: the number of CPUs; small runs use one).")


def _codes(value: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(code.strip() for item in value for code in item.split(",") if code.strip())


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_ERROR)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="celery-lint")
def main() -> None:
    """celery-lint: find the Celery mistakes that lose, repeat, hang or leak background work."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--select", multiple=True, metavar="CODES",
              help="Only these rules (codes or prefixes, comma-separated: CEL1,CEL201).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Leave out these rules.")
@click.option("--extend-select", multiple=True, metavar="CODES",
              help="Add these rules to the selection (e.g. the info rules).")
@click.option("--preview", is_flag=True,
              help="Also run the preview rules and the preview parts of stable rules (not yet "
                   "stable: see `celery-lint rule --all`).")
@click.option("--output-format", type=click.Choice(OUTPUT_FORMATS), default="full",
              show_default=True, help="How to print the diagnostics.")
@click.option("--statistics", is_flag=True, help="Print a count per rule instead of diagnostics.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when diagnostics are found.")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Read the configuration from this file instead of the nearest pyproject.toml.")
@click.option("-q", "--quiet", is_flag=True, help="Print diagnostics and nothing else.")
@click.option("--stdin-filename", type=click.Path(path_type=Path),
              help="Read the source from stdin and report it as this path.")
@click.option("--fix", "apply_fixes", is_flag=True,
              help="Apply the safe fixes (with --stdin-filename: print the fixed source).")
@click.option("--unsafe-fixes", is_flag=True,
              help="With --fix or --diff: also the unsafe fixes (they change behaviour on purpose).")
@click.option("--diff", "show_diff", is_flag=True,
              help="Print the fixes as a unified diff instead of writing them; exit 1 if any.")
@click.option("--show-fixes", is_flag=True, help="List the fixes applied, per file.")
@click.option("--add-noqa", is_flag=True,
              help="Add `# noqa: CODE` to every line with a diagnostic (Python and YAML files).")
@NO_CACHE
@CACHE_DIR
@JOBS
def check(paths: tuple[Path, ...], select: tuple[str, ...], ignore: tuple[str, ...],
          extend_select: tuple[str, ...], preview: bool, output_format: str, statistics: bool,
          exit_zero: bool,
          config_file: Path | None, quiet: bool, stdin_filename: Path | None, apply_fixes: bool,
          unsafe_fixes: bool, show_diff: bool, show_fixes: bool, add_noqa: bool, no_cache: bool,
          cache_dir: Path | None, jobs: int | None) -> None:
    """Lint PATHS (default: the current folder) and report what is wrong.

    Exit status: 0 clean (or everything fixed), 1 diagnostics remain (with --diff: fixes to
    apply), 2 usage, configuration or internal error.
    """
    from celery_lint.codes import get_rule, preview_selections
    from celery_lint.output import FORMATS
    from celery_lint.runner import default_jobs, open_cache, run

    targets = list(paths) or [stdin_filename.parent if stdin_filename else Path(".")]
    if config_file is not None and not config_file.is_file():
        _fail(f"--config: no such file: {config_file}")
    try:
        config = load_config(stdin_filename or targets[0], config_file)
        config = _with_options(config, _codes(select), _codes(ignore), _codes(extend_select))
    except ConfigError as exc:
        _fail(str(exc))
    if preview:
        config = dataclasses.replace(config, preview=True)
    elif not quiet:
        for code in preview_selections((*(config.select or ()), *config.extend_select)):
            click.echo(f"warning: selection `{code}` has no effect because preview is not "
                       "enabled (--preview, or `preview = true` in [tool.celery-lint])", err=True)
    stdin = None
    if stdin_filename is not None:
        stdin = (stdin_filename, sys.stdin.read())
    fixing = apply_fixes or show_diff  # --unsafe-fixes widens what --fix and --diff apply
    if cache_dir is not None:
        config = dataclasses.replace(config, cache_dir=str(cache_dir.absolute()))
    cache = None if no_cache else open_cache(config, targets)
    jobs = jobs or default_jobs()
    try:
        if add_noqa:
            _add_noqa(targets, config, stdin, quiet, cache, jobs)
            return
        if fixing:
            result = _fix(targets, config, stdin, unsafe_fixes, show_diff, show_fixes, quiet,
                          cache, jobs)
            if show_diff:
                return
        else:
            result = run(targets, config, stdin, cache=cache, jobs=jobs)
    except (OSError, RecursionError) as exc:
        _fail(f"internal error: {exc!r}")
    if fixing and stdin is not None:
        # the fixed source went to stdout; what remains is reported on stderr
        for diagnostic in result.diagnostics:
            click.echo(FORMATS["concise"]([diagnostic]).rstrip("\n"), err=True)
        sys.exit(EXIT_DIAGNOSTICS if result.diagnostics and not exit_zero else EXIT_CLEAN)
    if not quiet:
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
    diagnostics = result.diagnostics
    if statistics:
        counts = collections.Counter(d.code for d in diagnostics)
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            rule = get_rule(code)
            click.echo(f"{count:>5}\t{code}\t{rule.name if rule else ''}")
    else:
        from celery_lint.source import split_lines

        sources = {str(stdin[0].absolute()): split_lines(stdin[1])} if stdin else None
        if output_format == "full" and sources:
            from celery_lint.output.full import render

            text = render(diagnostics, sources)
        else:
            text = FORMATS[output_format](diagnostics)
        click.echo(text, nl=False)
    if not quiet and output_format in ("full", "concise") and not statistics:
        if diagnostics:
            noun = "error" if len(diagnostics) == 1 else "errors"
            click.echo(f"Found {len(diagnostics)} {noun}.")
        else:
            click.echo("All checks passed!")
    if result.internal_errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_DIAGNOSTICS if diagnostics and not exit_zero else EXIT_CLEAN)


def _fix(targets: list[Path], config: Config, stdin: tuple[Path, str] | None, unsafe: bool,
         show_diff: bool, show_fixes: bool, quiet: bool, cache: Cache | None,
         jobs: int):  # type: ignore[no-untyped-def]
    """Fix in memory; write the files (or print the diff, or the fixed stdin) and report."""
    from celery_lint.fixes import MAX_PASSES, fix, unified_diff, write

    outcome = fix(targets, config, unsafe, stdin, cache=cache, jobs=jobs)
    for path in outcome.unparsable:
        shown = outcome.originals[path].display_path
        click.echo(f"warning: {shown}: a fix would make it unparsable; left unchanged", err=True)
    for path in outcome.unsettled:
        shown = outcome.originals[path].display_path
        click.echo(f"warning: {shown}: fixes did not settle after {MAX_PASSES} passes", err=True)
    if show_diff:
        text = unified_diff(outcome)
        click.echo(text, nl=False)
        if not quiet:
            noun = "fix" if outcome.count == 1 else "fixes"
            click.echo(f"Would apply {outcome.count} {noun}.", err=True)
        sys.exit(EXIT_DIAGNOSTICS if outcome.fixed else EXIT_CLEAN)
    if stdin is not None:
        path = str(stdin[0].absolute())
        click.echo(outcome.fixed.get(path, stdin[1]), nl=False)
        return outcome.result
    for problem in write(outcome):
        click.echo(f"warning: {problem}", err=True)
    if show_fixes and outcome.applied:
        click.echo(f"Fixed {outcome.count} error{'s' if outcome.count != 1 else ''}:")
        for path, counts in sorted(outcome.applied.items()):
            click.echo(f"- {outcome.originals[path].display_path}:")
            for code, count in sorted(counts.items()):
                click.echo(f"    {count} x {code}")
    elif outcome.count and not quiet:
        click.echo(f"Fixed {outcome.count} error{'s' if outcome.count != 1 else ''}.", err=True)
    return outcome.result


def _add_noqa(targets: list[Path], config: Config, stdin: tuple[Path, str] | None,
              quiet: bool, cache: Cache | None, jobs: int) -> None:
    from celery_lint.fixes import add_noqa, write_atomically
    from celery_lint.runner import run

    if stdin is not None:
        _fail("--add-noqa cannot be used with --stdin-filename")
    result = run(targets, config, cache=cache, jobs=jobs)
    changed = add_noqa(result)
    for path, text in changed.items():
        source = result.sources[path]
        data = text.encode(source.encoding)
        write_atomically(Path(path), (b"\xef\xbb\xbf" if source.bom else b"") + data)
    if not quiet:
        count = sum(1 for d in result.diagnostics if d.path in changed)
        click.echo(f"Added {count} noqa directive{'s' if count != 1 else ''} "
                   f"to {len(changed)} file{'s' if len(changed) != 1 else ''}.")
    sys.exit(EXIT_CLEAN)


def _with_options(config: Config, select: tuple[str, ...], ignore: tuple[str, ...],
                  extend_select: tuple[str, ...]) -> Config:
    from celery_lint.codes import expand_codes

    for option, codes in (("--select", select), ("--ignore", ignore),
                          ("--extend-select", extend_select)):
        try:
            expand_codes(codes)
        except ValueError as exc:
            raise ConfigError(f"{option}: {exc}") from None
    return dataclasses.replace(
        config,
        select=select or config.select,
        ignore=config.ignore + ignore,
        extend_select=config.extend_select + extend_select,
    )


@main.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--output-format", type=click.Choice(("table", "json")), default="table",
              show_default=True, help="A table for people, or one JSON object per item.")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Read the configuration from this file instead of the nearest pyproject.toml.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when an item fails.")
@NO_CACHE
@CACHE_DIR
@JOBS
def audit(path: Path | None, output_format: str, config_file: Path | None,
          exit_zero: bool, no_cache: bool, cache_dir: Path | None, jobs: int | None) -> None:
    """Check the project at PATH (default: .) against the production checklist.

    Finds the Celery app, the settings it reads and the production settings module, and prints
    one row per checklist item: pass, fail, unknown (a value from the environment or one that
    cannot be evaluated is never failed; the row says which and why), or not applicable. Names
    are judged by the project's Celery release: the one its dependency files state, else the one
    installed. Exit status: 0 when no item fails, 1 when one does, 2 on a usage or configuration
    error.
    """
    from celery_lint.audit import build_report, render_json, render_table
    from celery_lint.runner import default_jobs, load_project, open_cache

    target = path or Path(".")
    if not target.exists():
        _fail(f"no such file or folder: {target}")
    if config_file is not None and not config_file.is_file():
        _fail(f"--config: no such file: {config_file}")
    try:
        config = load_config(target, config_file)
    except ConfigError as exc:
        _fail(str(exc))
    if cache_dir is not None:
        config = dataclasses.replace(config, cache_dir=str(cache_dir.absolute()))
    cache = None if no_cache else open_cache(config, [target])
    try:
        project = load_project([target], config, cache=cache, jobs=jobs or default_jobs())
        report = build_report(project.index)
        if cache is not None:
            cache.save()
    except (OSError, RecursionError) as exc:
        _fail(f"internal error: {exc!r}")
    for warning in project.result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if output_format == "json":
        click.echo(render_json(report), nl=False)
    else:
        click.echo(render_table(report, click.style), nl=False)
    sys.exit(EXIT_DIAGNOSTICS if report.failed and not exit_zero else EXIT_CLEAN)


@main.command()
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="Print every rule's page.")
@click.option("--output-format", type=click.Choice(("text", "json")), default="text",
              show_default=True,
              help="The page as text, or JSON (code, name, severity, group, fix, summary, "
                   "explanation): one object, or an array with --all.")
def rule(code: str | None, show_all: bool, output_format: str) -> None:
    """Print the documentation page of rule CODE (e.g. CEL101), or of every rule with --all.

    Under the page's title: the rule's group (stable, or preview: run only with --preview).
    """
    import json

    from celery_lint.codes import all_rules, get_rule
    from celery_lint.pages import page

    def as_json(info: RuleInfo) -> dict[str, str | None]:
        return {"code": info.code, "name": info.name, "severity": info.severity.value,
                "group": info.group.value, "fix": info.fix.value if info.fix else None,
                "summary": info.summary, "explanation": page(info.code)}

    if show_all:
        if output_format == "json":
            click.echo(json.dumps([as_json(r) for r in all_rules()], indent=2))
        else:
            click.echo("\n\n".join(_page_text(r, page(r.code) or f"# {r.code}: {r.name}\n")
                                   for r in all_rules()))
        return
    if code is None:
        _fail("give a rule code (e.g. `celery-lint rule CEL101`) or --all")
    info = get_rule(code)
    if info is None:
        _fail(f"unknown rule code {code!r} (see `celery-lint rule --all`)")
    text = page(info.code)
    if text is None:
        _fail(f"no documentation page found for {info.code}")
    if output_format == "json":
        click.echo(json.dumps(as_json(info), indent=2))
    else:
        click.echo(_page_text(info, text))


def _page_text(info: RuleInfo, text: str) -> str:
    """A rule's page with its group under the title (the page's own table gives the severity
    and the fix; the group is the table of codes' alone, so that moving a rule between groups
    changes one field)."""
    title, _, rest = text.rstrip().partition("\n")
    facts = f"Group: {info.group.value}."
    if info.preview:
        facts += ("\n\nThis rule is in preview: it runs only with `--preview` (or "
                  "`preview = true` in `[tool.celery-lint]`).")
    return f"{title}\n\n{facts}\n{rest}".rstrip()


@main.command()
def server() -> None:
    """Run the language server on stdin and stdout, for editors (needs the `server` extra)."""
    try:
        from celery_lint.lsp import start
    except ImportError as exc:
        _fail(f"the language server needs pygls: pip install 'celery-lint[server]' ({exc})")
    start()
