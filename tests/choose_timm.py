"""Choose one timm model per architecture family (timm's model module), the one with the
fewest parameters, and write tests/data/timm_families.json for tests/sweep_torch.py.

    python tests/choose_timm.py

Each candidate is built on the meta device (no memory, no arithmetic). A family counts as a
transformer or hybrid when the chosen model's forward runs a softmax or
scaled_dot_product_attention (attention in any of its forms), or mixes tokens with MLPs
(timm's mlp_mixer family); every other family counts as a CNN.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from real_models import TIMM_FAMILIES, prepare_torchvision

TOKEN_MLP_FAMILIES = {"mlp_mixer"}


def _attention_ops(model: Any, shape: tuple[int, ...]) -> bool:
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    seen: set[str] = set()

    class Ops(TorchDispatchMode):
        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            seen.add(str(func.overloadpacket.__name__))
            return func(*args, **(kwargs or {}))

    with torch.device("meta"), Ops(), torch.no_grad():
        model(torch.empty((1, *shape)))
    return any("softmax" in op or "scaled_dot_product" in op for op in seen)


def main() -> None:
    prepare_torchvision()
    import timm
    import torch

    rows = []
    for module in sorted(timm.list_modules()):
        best: tuple[int, str] | None = None
        for name in timm.list_models(module=module):
            if name.startswith("test_"):
                continue
            try:
                with torch.device("meta"):
                    model = timm.create_model(name)
            except Exception as error:  # noqa: BLE001 - a model that cannot build is skipped, and said
                print(f"{name}: {type(error).__name__}: {error}", file=sys.stderr)
                continue
            params = sum(parameter.numel() for parameter in model.parameters())
            if best is None or params < best[0]:
                best = (params, name)
        if best is None:
            continue
        params, name = best
        with torch.device("meta"):
            model = timm.create_model(name).eval()
        shape = tuple(model.pretrained_cfg.get("input_size", (3, 224, 224)))
        try:
            attention = _attention_ops(model, shape)
        except Exception as error:  # noqa: BLE001
            print(f"{name}: meta forward: {type(error).__name__}: {error}", file=sys.stderr)
            attention = "attn" in name or "vit" in name
        kind = "transformer" if attention or module in TOKEN_MLP_FAMILIES else "cnn"
        rows.append({"family": module, "model": name, "params": params, "input_size": list(shape), "kind": kind})
        print(module, name, params, shape, kind, flush=True)
    TIMM_FAMILIES.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
