"""Files cnncalc is given: only regular files, never more than a bound, a message naming the file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnncalc.cli import main
from cnncalc.errors import SpecError
from cnncalc.files import read_bounded


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
@pytest.mark.parametrize("command", [["analyze"], ["analyze", "--format", "json"], ["check"]])
def test_a_device_is_refused_before_a_byte_is_read(device: str, command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, device])
    assert result.exit_code == 2
    assert result.stderr == f"cannot read {device}: not a regular file; give the path of a YAML spec\n"


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_chip_file_that_is_a_device_is_refused(device: str) -> None:
    result = CliRunner().invoke(main, ["chips"], env={"CNNCALC_CHIPS": device})
    assert result.exit_code == 2 and f"cannot read {device}: not a regular file" in result.stderr


@pytest.mark.parametrize("suffix", [".yaml", ".cfg", ".prototxt", ".onnx", ".json"])
def test_a_fifo_with_no_writer_does_not_hang(tmp_path: Path, suffix: str) -> None:
    fifo = tmp_path / f"model{suffix}"
    os.mkfifo(fifo)
    with pytest.raises(SpecError, match=f"cannot read {fifo}: not a regular file"):
        read_bounded(fifo)


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=f"cannot read {tmp_path}: not a regular file"):
        read_bounded(tmp_path)


def test_a_file_past_the_bound_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (3 * 2**20))
    assert read_bounded(big, limit=3 * 2**20) == b"#" * (3 * 2**20)
    with pytest.raises(SpecError, match=r"big.yaml is larger than 2 MiB, the most cnncalc reads"):
        read_bounded(big, limit=2 * 2**20)
