"""Work that grows with what a spec repeats: each distinct question answered once, the rest bounded.

These count work (expression steps, entries visited) rather than time, so they hold on a busy
machine; tests/benchmark.py times the same cases.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import cnncalc
from cnncalc import interpolate, limits

LONG_OF_I = "i + " + " + ".join(["1 * 2"] * 120)  # 362 steps, new for every instance
LONG_OF_C = LONG_OF_I.replace("i", "c", 1)  # the same for every instance


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "net.yaml"
    path.write_text(text)
    return path


def test_an_expression_new_for_every_instance_stops_at_the_work_limit(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interpolate, "MAX_WORK", 100_000)
    path = write(tmp_path, "params: {c: 1}\ninput: {shape: [3, 8, 8]}\nlayers:\n"
                           f"  - {{type: relu, repeat: 100000, when: '${{{LONG_OF_I} > 0}}'}}\n")
    with pytest.raises(cnncalc.SpecError) as caught:
        cnncalc.analyze(path)
    assert str(caught.value) == (
        f"{path}:4:40: layer 'relu_1.137' (relu): the spec's expressions take more than 100,000 steps to evaluate; "
        "a repeat or block evaluates them again for every instance: compute a value once in params and refer to it")


def test_the_same_expression_in_every_instance_is_evaluated_once(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interpolate, "MAX_WORK", 100_000)
    path = write(tmp_path, "params: {c: 1}\ninput: {shape: [3, 8, 8]}\nlayers:\n"
                           f"  - {{type: relu, repeat: 20000, when: '${{{LONG_OF_C} > 0}}'}}\n")
    assert len(cnncalc.analyze(path).layers) == 20000


def test_block_defaults_used_thousands_of_times_are_evaluated_once_per_distinct_value(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interpolate, "MAX_WORK", 100_000)
    defaults = "".join(f"      p{k}: ${{p{k - 1} + 1 + 0 * (p{k - 1} * 3 - 2)}}\n" for k in range(1, 200))
    path = write(tmp_path, "input: {shape: [3, 8, 8]}\nblocks:\n  b:\n    params:\n      p0: 1\n" + defaults
                 + "    layers: [{type: relu}]\nlayers:\n  - {type: b, repeat: 2000}\n")
    assert len(cnncalc.analyze(path).layers) == 2000


def test_nested_inline_chains_in_a_repeat_are_sized_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """46 chains inside each other, repeated: each chain is sized once per depth, not once per instance."""
    inner = "{type: relu}"
    for _ in range(46):
        inner = "{layers: [" + inner + "]}"
    path = write(tmp_path, f"input: {{shape: [3, 8, 8]}}\nlayers:\n  - {{repeat: 300, layers: [{inner}]}}\n")
    visits = 0
    real = limits.SizeEstimate.static_size

    def counted(self: limits.SizeEstimate, *args: object, **kwargs: object) -> int:
        nonlocal visits
        visits += 1
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(limits.SizeEstimate, "static_size", counted)
    assert len(cnncalc.analyze(path).layers) == 300
    # Linear: a call per chain per instance (the walk asks at each level) plus the sizing
    # itself once; re-sizing every level below each chain would be 300 x 46 x 47 / 2.
    assert visits <= 300 * 48 + 48 * 48, visits
