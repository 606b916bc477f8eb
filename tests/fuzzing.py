"""What every seeded fuzzer here shares: a per-case time limit, cases spread over batches
(or one case, named by the fuzzer's _ONLY variable, to replay a failure), and the report
of a batch's failures."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any


class TimeLimit(Exception):
    pass


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise TimeLimit(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def batch_indices(batch: int, cases: int, batches: int, only: str | None) -> range:
    """The case numbers batch `batch` runs: every `batches`-th, or only the one to replay."""
    if only is not None:
        return range(int(only), int(only) + 1) if batch == 0 else range(0)
    return range(batch, cases, batches)


def failures_message(failures: dict[int, str], replay: str) -> str:
    """How many cases failed, how to replay them (`replay` names the variable), and the first."""
    return (f"{len(failures)} failing case(s), {replay}={', '.join(map(str, failures))}; "
            f"the first:\n{next(iter(failures.values()))}")


def check_batch(indices: Iterable[int], check: Callable[[int], str | None], replay: str) -> None:
    """Run every case; fail once, naming every failing case, if any case reports a problem."""
    failures = {index: problem for index in indices if (problem := check(index)) is not None}
    assert not failures, failures_message(failures, replay)
