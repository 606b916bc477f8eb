"""What cnncalc writes: -o and --plot files whole or not at all, never through a link, never
created twice; standard output on a full device or a closed pipe."""

from __future__ import annotations

import errno
import os
import tempfile
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import cnncalc.files
from cnncalc.cli import main
from cnncalc.errors import SpecError
from cnncalc.files import write_atomic

LENET = "specs/lenet5.yaml"
OLD = '{"old": "report"}\n'


def run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(".tmp"))


# -- a failure while writing leaves the old file whole and no temporary file ---------------------

def half_then(error: BaseException):
    def writer(handle):
        handle.write(b'{"new": "rep')
        handle.flush()
        raise error
    return writer


@pytest.mark.parametrize("error, message", [
    (OSError(errno.ENOSPC, "No space left on device"), "cannot write {path}: No space left on device"),
    (OSError(errno.EIO, "Input/output error"), "cannot write {path}: Input/output error"),
], ids=["disk-full", "io-error"])
def test_a_failed_forced_write_keeps_the_old_file(tmp_path, error, message):
    target = tmp_path / "report.json"
    target.write_text(OLD)
    with pytest.raises(SpecError) as caught:
        write_atomic(target, half_then(error), force=True)
    assert str(caught.value) == message.format(path=target)
    assert target.read_text() == OLD and leftovers(tmp_path) == []


def test_an_interrupted_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "report.json"
    target.write_text(OLD)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, half_then(KeyboardInterrupt()), force=True)
    assert target.read_text() == OLD and leftovers(tmp_path) == []


def test_the_cli_reports_a_full_disk_and_keeps_the_old_report(tmp_path, monkeypatch):
    target = tmp_path / "report.json"
    target.write_text(OLD)

    def full(descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cnncalc.files.os, "fsync", full)
    code, out, err = run("analyze", LENET, "--format", "json", "-o", str(target), "--force")
    assert (code, out, err) == (2, "", f"cannot write {target}: No space left on device\n")
    assert target.read_text() == OLD and leftovers(tmp_path) == []


def test_a_plot_that_fails_midway_keeps_the_old_plot(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import cnncalc.plot

    target = tmp_path / "layers.png"
    target.write_bytes(b"old png")

    def failing_save(figure, handle, form):
        handle.write(b"\x89PNG half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cnncalc.plot, "save", failing_save)
    code, _, err = run("analyze", LENET, "--plot", str(target), "--force")
    assert (code, err.splitlines()[-1]) == (2, f"cannot write {target}: No space left on device")
    assert target.read_bytes() == b"old png" and leftovers(tmp_path) == []


KILLED_WRITER = textwrap.dedent("""
    import sys, time
    from cnncalc.files import write_atomic

    def slow(handle):
        handle.write(b'{"new": ' + b'0' * 1_000_000)
        handle.flush()
        print("writing", flush=True)
        time.sleep(60)

    write_atomic(sys.argv[1], slow, force=True)
""")


def test_sigkill_mid_write_leaves_the_old_report_whole(tmp_path):
    target = tmp_path / "report.json"
    target.write_text(OLD)
    process = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target)], stdout=subprocess.PIPE)
    assert process.stdout.readline() == b"writing\n"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert target.read_text() == OLD
    # A killed process cannot clean up: its half file is a hidden temporary beside the report.
    [half] = leftovers(tmp_path)
    assert half.startswith(".report.json.")


def test_a_new_file_gets_the_usual_permissions_and_an_old_one_keeps_its_own(tmp_path):
    umask = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.json"
        write_atomic(fresh, b"{}", force=False)
        assert fresh.stat().st_mode & 0o777 == 0o644
        kept = tmp_path / "kept.json"
        kept.write_text(OLD)
        kept.chmod(0o600)
        write_atomic(kept, b"{}", force=True)
        assert (kept.read_text(), kept.stat().st_mode & 0o777) == ("{}", 0o600)
    finally:
        os.umask(umask)


# -- links: refused without --force; with it the link itself is replaced ------------------------

LINK_MESSAGE = ("{path} is a symbolic link; cnncalc does not write through links; name the file itself, "
                "or add --force to replace the link with the file\n")


def make_link(tmp_path: Path, dangling: bool) -> tuple[Path, Path]:
    target = tmp_path / "elsewhere" / "victim.txt"
    target.parent.mkdir()
    if not dangling:
        target.write_text("precious")
    link = tmp_path / "report.json"
    link.symlink_to(target)
    return link, target


COMMANDS = {
    "analyze-o": lambda path: ["analyze", LENET, "--format", "json", "-o", str(path)],
    "check-o": lambda path: ["check", LENET, "--budget", "params=1M", "-o", str(path)],
    "diff-o": lambda path: ["diff", LENET, LENET, "-o", str(path)],
    "fps-o": lambda path: ["fps", "--flops", "1G", "--tops", "1", "-o", str(path)],
    "import-o": lambda path: ["import", "specs/yolov4-tiny.cfg", "-o", str(path)],
    "export-o": lambda path: ["export", LENET, "--torch", "-o", str(path)],
}


@pytest.mark.parametrize("dangling", [True, False], ids=["dangling-link", "live-link"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_link_is_refused_without_force(tmp_path, command, dangling):
    link, target = make_link(tmp_path, dangling)
    code, out, err = run(*COMMANDS[command](link))
    assert (code, out, err) == (2, "", LINK_MESSAGE.format(path=link))
    assert target.exists() == (not dangling)
    if not dangling:
        assert target.read_text() == "precious"
    assert link.is_symlink()


@pytest.mark.parametrize("dangling", [True, False], ids=["dangling-link", "live-link"])
def test_a_plot_link_is_refused_without_force(tmp_path, dangling):
    pytest.importorskip("matplotlib")
    link, target = make_link(tmp_path, dangling)
    link = link.rename(tmp_path / "chart.png")
    code, out, err = run("analyze", LENET, "--plot", str(link))
    assert (code, out, err) == (2, "", LINK_MESSAGE.format(path=link))
    assert target.exists() == (not dangling)


@pytest.mark.parametrize("dangling", [True, False], ids=["dangling-link", "live-link"])
def test_force_replaces_the_link_not_its_target(tmp_path, dangling):
    link, target = make_link(tmp_path, dangling)
    code, _, err = run("analyze", LENET, "--format", "json", "-o", str(link), "--force")
    assert (code, err) == (0, f"wrote {link}\n")
    assert not link.is_symlink() and link.read_text().startswith('{\n "cnncalc"')
    assert target.exists() == (not dangling)
    if not dangling:
        assert target.read_text() == "precious"


# -- exclusive creation: a file created meanwhile is never overwritten ---------------------------

def test_a_file_created_during_the_write_is_kept(tmp_path):
    target = tmp_path / "report.json"

    def racing(handle):
        handle.write(b"mine")
        target.write_text("theirs")  # another process wins the name between check and write

    with pytest.raises(SpecError) as caught:
        write_atomic(target, racing, force=False)
    assert str(caught.value) == f"{target} exists; add --force to overwrite it"
    assert target.read_text() == "theirs" and leftovers(tmp_path) == []


def test_the_cli_loses_a_creation_race_with_the_exists_message(tmp_path, monkeypatch):
    target = tmp_path / "report.json"
    real = tempfile.mkstemp

    def racing_mkstemp(**options):
        target.write_text("theirs")
        return real(**options)

    monkeypatch.setattr(tempfile, "mkstemp", racing_mkstemp)
    code, out, err = run("analyze", LENET, "--format", "json", "-o", str(target))
    assert (code, out, err) == (2, "", f"{target} exists; add --force to overwrite it\n")
    assert target.read_text() == "theirs" and leftovers(tmp_path) == []


def test_two_processes_cannot_both_create_the_file(tmp_path):
    target = tmp_path / "report.json"
    script = ("import sys; from cnncalc.files import write_atomic; "
              "write_atomic(sys.argv[1], sys.argv[2].encode(), False)")
    processes = [subprocess.Popen([sys.executable, "-c", script, str(target), f"writer {index}"],
                                  stderr=subprocess.PIPE) for index in range(8)]
    codes = [process.wait() for process in processes]
    assert codes.count(0) == 1
    assert target.read_text() == f"writer {codes.index(0)}" and leftovers(tmp_path) == []


@pytest.mark.parametrize("make", ["fifo", "device"])
def test_force_never_replaces_a_device_or_fifo(tmp_path, make):
    if make == "fifo":
        target = tmp_path / "pipe"
        os.mkfifo(target)
    else:
        target = Path("/dev/null")
    code, out, err = run("analyze", LENET, "-o", str(target), "--force")
    assert (code, out, err) == (2, "", f"cannot write {target}: not a regular file; name a file to write the output "
                                       "to\n")
    assert target.is_fifo() if make == "fifo" else target.is_char_device()


def test_a_missing_folder_is_one_message(tmp_path):
    target = tmp_path / "no" / "such" / "report.json"
    code, out, err = run("analyze", LENET, "-o", str(target))
    assert (code, out, err) == (2, "", f"cannot write {target}: No such file or directory\n")


# -- standard output: a full device, a closed pipe --------------------------------------------------

PRINTING = {
    "analyze": ["analyze", LENET],
    "analyze-json": ["analyze", LENET, "--format", "json"],
    "analyze-sweep": ["analyze", LENET, "--sweep", "batch=1,2"],
    "layer": ["layer", "conv2d", "--input", "3x8x8", "--out-channels", "4", "--kernel-size", "3"],
    "check": ["check", LENET, "--budget", "params=1M"],
    "diff": ["diff", LENET, LENET],
    "fps": ["fps", "--flops", "1G", "--tops", "1"],
    "chips": ["chips"],
    "chip": ["chips", "hailo-8"],
    "explain": ["explain"],
    "explain-type": ["explain", "conv2d"],
    "import": ["import", "specs/yolov4-tiny.cfg"],
    "export": ["export", LENET, "--torch"],
    "help": ["--help"],
    "command-help": ["analyze", "--help"],
    "version": ["--version"],
}
CNNCALC = [sys.executable, "-m", "cnncalc"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("command", list(PRINTING))
def test_a_full_device_is_one_message(command):
    with open("/dev/full", "w") as full:
        result = subprocess.run([*CNNCALC, *PRINTING[command]], stdout=full, stderr=subprocess.PIPE, text=True,
                                timeout=60)
    assert (result.returncode, result.stderr) == (2, "cannot write standard output: No space left on device\n")


@pytest.mark.parametrize("command", ["analyze-json", "chips", "explain", "diff"])
def test_a_closed_pipe_is_a_quiet_exit(command):
    process = subprocess.Popen([*CNNCALC, *PRINTING[command]], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader (`head`) is gone before cnncalc writes
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (141, b"")


def test_help_into_a_closed_pipe_is_quiet():
    """click answers a closed pipe during --help itself: quietly, with status 1."""
    process = subprocess.Popen([*CNNCALC, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (1, b"")


def test_a_large_output_read_by_head_is_quiet():
    """A report larger than the pipe's buffer (155 kB), read by `head -c 100`. cnncalc writes it
    in one call, which the kernel ends short, without an error, when the reader leaves after
    taking part of it: then Python sees no error and the status is 0; otherwise 141. Quiet both ways."""
    reader = subprocess.Popen(["head", "-c", "100"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    result = subprocess.run([*CNNCALC, "analyze", "specs/resnet3d_152.yaml", "--format", "json"],
                            stdout=reader.stdin, stderr=subprocess.PIPE, timeout=60)
    reader.stdin.close()
    head = reader.stdout.read()
    reader.wait()
    assert len(head) == 100 and head.startswith(b'{\n "cnncalc": ')
    assert result.returncode in (0, 141) and result.stderr == b""
