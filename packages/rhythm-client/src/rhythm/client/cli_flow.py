"""`rhythm check` and `rhythm fmt`: the .flow checker and formatter on the command line."""

from __future__ import annotations

from pathlib import Path

import click

from rhythm.core.analysis import analyze
from rhythm.core.diagnostics import Severity
from rhythm.core.formatter import FormatError, format_source


class FlowFileError(click.ClickException):
    """A path that is missing, unreadable or not text: one line, exit status 1."""

    exit_code = 1


def collect_files(paths: tuple[str, ...]) -> list[Path]:
    """The .flow files named by `paths` (directories are searched recursively)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.flow") if p.is_file()))
        elif path.exists():
            files.append(path)
        else:
            raise FlowFileError(f"{raw}: no such file or directory")
    return files


def read_source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FlowFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise FlowFileError(f"{path}: cannot read: {exc.strerror or exc}") from None


@click.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
def check_command(paths: tuple[str, ...]) -> None:
    """Check .flow files: print `path:line:col: severity code message` for each problem.

    Exits 1 when any error was found (warnings alone exit 0). Directories are searched
    recursively for *.flow files."""
    files = collect_files(paths)
    errors = warnings = 0
    for path in files:
        analysis = analyze(read_source(path))
        for d in analysis.diagnostics:
            click.echo(d.format(str(path)))
            if d.severity is Severity.ERROR:
                errors += 1
            elif d.severity is Severity.WARNING:
                warnings += 1
    summary = f"{len(files)} file(s) checked: {errors} error(s), {warnings} warning(s)"
    click.echo(summary, err=True)
    if errors:
        raise SystemExit(1)


@click.command("fmt")
@click.option(
    "--check", "check_only", is_flag=True, help="Do not write; list files that would change."
)
@click.argument("paths", nargs=-1, required=True, type=click.Path())
def fmt_command(paths: tuple[str, ...], check_only: bool) -> None:
    """Format .flow files in place (canonical layout, idempotent, never changes meaning).

    With --check, list the files that would change and exit 1 if there are any. A file with
    syntax errors is reported and left unchanged (exit 1)."""
    files = collect_files(paths)
    changed: list[Path] = []
    failed = False
    for path in files:
        source = read_source(path)
        try:
            formatted = format_source(source)
        except FormatError as exc:
            failed = True
            for d in exc.diagnostics:
                click.echo(d.format(str(path)), err=True)
            if not exc.diagnostics:
                click.echo(f"{path}: {exc}", err=True)
            continue
        if formatted == source:
            continue
        changed.append(path)
        if check_only:
            click.echo(str(path))
        else:
            try:
                path.write_text(formatted, encoding="utf-8")
            except OSError as exc:
                raise FlowFileError(f"{path}: cannot write: {exc.strerror or exc}") from None
            click.echo(f"formatted {path}")
    if check_only and changed:
        click.echo(f"{len(changed)} file(s) would be reformatted", err=True)
        raise SystemExit(1)
    if failed:
        raise SystemExit(1)
