"""`rhythm check` and `rhythm fmt`."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from rhythm.client.cli import cli

GOOD = 'const order = Inputs.order\nreturn await Task.run("ship", { id: order.id })\n'
UGLY = "const order=Inputs.order;\nreturn await Task.run('ship',{id:order.id});\n"
BAD = "const x = 1\nx = 2\nlet y = = 3\nconst unused = 4\n"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_check_clean_file(tmp_path: Path) -> None:
    f = tmp_path / "ok.flow"
    f.write_text(GOOD)
    code, out, err = run("check", str(f))
    assert code == 0 and out == "" and "1 file(s) checked: 0 error(s)" in err


def test_check_reports_sorted_diagnostics_and_fails(tmp_path: Path) -> None:
    f = tmp_path / "bad.flow"
    f.write_text(BAD)
    code, out, _ = run("check", str(f))
    assert code == 1
    lines = out.splitlines()
    assert (
        lines[0]
        == f"{f}:2:1: error RY102 cannot assign to 'x': it is a constant (declared with const at 1:7); use let"
    )
    assert lines[1].startswith(f"{f}:3:9: error RY001 ")
    assert [ln.split(":")[1] for ln in lines] == sorted(ln.split(":")[1] for ln in lines)


def test_check_warnings_only_exit_zero(tmp_path: Path) -> None:
    f = tmp_path / "warn.flow"
    f.write_text("const unused = 1\n")
    code, out, _ = run("check", str(f))
    assert code == 0 and "warning RY202" in out


def test_check_recurses_into_directories(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.flow").write_text("zz\n")
    (tmp_path / "b.txt").write_text("zz\n")
    code, out, _ = run("check", str(tmp_path))
    assert code == 1 and "a.flow:1:1: error RY101" in out and "b.txt" not in out


def test_check_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    code, out, err = run("check", str(tmp_path / "nope.flow"))
    assert code == 1 and "nope.flow: no such file or directory" in err
    assert "Traceback" not in out + err


def test_check_binary_file(tmp_path: Path) -> None:
    f = tmp_path / "bin.flow"
    f.write_bytes(b"\xff\xfe\x00")
    code, _, err = run("check", str(f))
    assert code == 1 and "not UTF-8 text" in err


def test_fmt_rewrites_in_place_and_is_idempotent(tmp_path: Path) -> None:
    f = tmp_path / "ugly.flow"
    f.write_text(UGLY)
    code, out, _ = run("fmt", str(f))
    assert code == 0 and "formatted" in out
    assert (
        f.read_text()
        == 'const order = Inputs.order\nreturn await Task.run("ship", { id: order.id })\n'
    )
    code, out, _ = run("fmt", "--check", str(f))
    assert code == 0 and out == ""


def test_fmt_check_lists_files_and_does_not_write(tmp_path: Path) -> None:
    f = tmp_path / "ugly.flow"
    f.write_text(UGLY)
    code, out, _ = run("fmt", "--check", str(f))
    assert code == 1 and out.strip() == str(f)
    assert f.read_text() == UGLY


def test_fmt_leaves_broken_files_alone(tmp_path: Path) -> None:
    f = tmp_path / "broken.flow"
    f.write_text("let y = = 3\n")
    code, _, err = run("fmt", str(f))
    assert code == 1 and "broken.flow:1:9: error RY001" in err
    assert f.read_text() == "let y = = 3\n"
