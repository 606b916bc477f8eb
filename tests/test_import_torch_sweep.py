"""The whole sweep of tests/sweep_torch.py, when CNNCALC_TORCH_SWEEP=1: every torchvision
classification and segmentation model, one timm model per family, every Ultralytics YAML,
each at its own input size, against PyTorch's counts. Hours on a laptop, so not by default;
docs/coverage.md holds its last result.

    CNNCALC_TORCH_SWEEP=1 python -m pytest -q tests/test_import_torch_sweep.py
    CNNCALC_TORCH_SWEEP=all ...    # models of every size, not only up to 100 M parameters
"""

from __future__ import annotations

import os
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(not os.environ.get("CNNCALC_TORCH_SWEEP"),
                                reason="the whole sweep runs with CNNCALC_TORCH_SWEEP=1")


def _models() -> list[Any]:
    if not os.environ.get("CNNCALC_TORCH_SWEEP"):
        return []
    from sweep_torch import models

    return models(["torchvision", "timm", "ultralytics"])


@pytest.mark.parametrize("model", _models(), ids=lambda model: f"{model.corpus}:{model.name}")
def test_model_is_exact(model: Any) -> None:
    from sweep_torch import DEFAULT_LIMIT, run_one

    row = run_one(model, None if os.environ.get("CNNCALC_TORCH_SWEEP") == "all" else DEFAULT_LIMIT)
    if row["status"] in ("unbuildable", "skipped"):
        pytest.skip(row["reason"])
    assert row["status"] == "exact", row["reason"]
