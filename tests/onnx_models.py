"""Real modern models (torchvision, timm) exported to ONNX, with PyTorch's own counts as the known answers.

Shared by tests/test_import_onnx_models.py (a small subset in the normal suite) and tests/sweep_onnx.py
(the whole list, CNNCALC_ONNX_SWEEP=1, which writes docs/coverage-onnx.md).

Known answers, all from PyTorch on the very module that was exported:
- params: sum(p.numel() for p in model.parameters());
- FLOPs: FlopCounterMode's total (2 x MACs) on the same input, with the math backend of
  scaled_dot_product_attention and nn.MultiheadAttention's fast path off (torch 2.13 counts 0 for
  the fused CPU kernels: see docs/peers.md);
- output shapes: the module's outputs on that input.

Exports use the TorchScript exporter (`dynamo=False`, opset 17) without constant folding, which keeps
every parameter as its own initializer (folding merges batch norms into convolutions and gathers of
relative-position tables into their results, which changes what a file holds, not what cnncalc
reads wrongly); `dynamo=True` uses the dynamo exporter when onnxscript is installed.
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Case:
    """One model: `source` 'torchvision' or 'timm', its factory name, one sample's input shape."""

    source: str
    name: str
    shape: tuple[int, ...] = (3, 224, 224)

    @property
    def id(self) -> str:
        return f"{'tv' if self.source == 'torchvision' else 'timm'}:{self.name}"


# One model per family: torchvision's modern classifiers and segmentation models, timm's transformers,
# hybrids and modern CNNs (the smallest variant of each), roughly smallest first.
CASES = [
    *(Case("torchvision", name) for name in (
        "vit_b_16", "swin_t", "swin_v2_t", "convnext_tiny", "efficientnet_b0", "maxvit_t", "mobilenet_v3_small",
        "regnet_y_400mf", "segmentation.lraspp_mobilenet_v3_large", "segmentation.deeplabv3_mobilenet_v3_large")),
    *(Case("timm", name) for name in (
        "vit_tiny_patch16_224", "deit_tiny_patch16_224", "efficientformer_l1", "efficientformerv2_s0",
        "mobilevit_xxs", "mobilevitv2_050", "levit_128s", "pvt_v2_b0", "convnext_atto", "convnextv2_atto",
        "efficientvit_b0", "efficientvit_m0", "fastvit_t8", "repvit_m1", "edgenext_xx_small", "tiny_vit_5m_224",
        "xcit_nano_12_p16_224", "coat_lite_tiny", "crossvit_tiny_240", "convit_tiny", "pit_ti_224", "starnet_s1",
        "hgnetv2_b0", "ghostnetv2_100", "mambaout_femto", "gmlp_ti16_224", "mixer_s16_224", "resmlp_12_224",
        "poolformer_s12", "poolformerv2_s12", "cait_xxs24_224", "eva02_tiny_patch14_224", "gcvit_xxtiny",
        "coatnet_nano_rw_224", "maxvit_tiny_rw_224", "deit3_small_patch16_224", "swin_tiny_patch4_window7_224",
        "swinv2_cr_tiny_ns_224", "caformer_s18", "twins_svt_small", "mvitv2_tiny", "hiera_tiny_224",
        "vitamin_small_224", "inception_next_tiny", "davit_tiny", "focalnet_tiny_srf", "nextvit_small",
        "volo_d1_224", "tnt_s_patch16_224", "sequencer2d_s", "rdnet_tiny", "beit_base_patch16_224")),
    Case("torchvision", "segmentation.fcn_resnet50"),
]


def import_torchvision() -> Any:
    """torchvision, importable on the CPU-only torch: its wheel registers fakes for two C operators
    (nms, qnms) that the CPU build lacks; defining their schemas first lets it import. Test code only."""
    import torch

    try:
        import torchvision
    except RuntimeError as error:
        if "torchvision::nms" not in str(error):
            raise
        library = torch.library.Library("torchvision", "DEF")
        library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        library.define("qnms(Tensor qdets, Tensor scores, float iou_threshold) -> Tensor")
        globals()["_LIBRARY"] = library  # kept alive: dropping it unregisters the schemas
        import torchvision
    return torchvision


def build(case: Case) -> Any:
    """The model in eval mode, random weights, nothing downloaded."""
    if case.source == "torchvision":
        torchvision = import_torchvision()
        module: Any = torchvision.models
        *packages, name = case.name.split(".")
        for package in packages:
            module = getattr(module, package)
        extra = {"aux_loss": False, "weights_backbone": None} if packages == ["segmentation"] else {}
        model = getattr(module, name)(weights=None, **extra)
    else:
        import_torchvision()  # timm imports it
        import timm

        model = timm.create_model(case.name, pretrained=False)
    return model.eval()


def input_shape(case: Case, model: Any) -> tuple[int, ...]:
    """timm's default input size for a timm model, else the case's."""
    config = getattr(model, "pretrained_cfg", None) or {}
    return tuple(config.get("input_size", case.shape)) if case.source == "timm" else case.shape


def flatten_outputs(output: Any) -> list[Any]:
    if isinstance(output, dict):
        return [item for value in output.values() for item in flatten_outputs(value)]
    if isinstance(output, (list, tuple)):
        return [item for value in output for item in flatten_outputs(value)]
    return [output]


@dataclass(frozen=True)
class Reference:
    params: int
    flops: int
    outputs: tuple[tuple[int, ...], ...]


def reference(model: Any, shape: tuple[int, ...]) -> Reference:
    """PyTorch's counts on one sample of `shape`: parameters, FlopCounterMode's total, output shapes."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    sample = torch.zeros(1, *shape)
    counter = FlopCounterMode(display=False)
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), counter:
            output = model(sample)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    outputs = tuple(tuple(item.shape) for item in flatten_outputs(output))
    return Reference(sum(p.numel() for p in model.parameters()), counter.get_total_flops(), outputs)


def export(model: Any, shape: tuple[int, ...], path: Path, dynamo: bool = False) -> Path:
    """`model` on one sample of `shape` as ONNX opset 17 at `path` (parameters kept as initializers).

    Parameters get random values first, as trained ones have: both exporters merge initializers of
    equal values (the zero biases and unit norm weights of a fresh model) and the dynamo exporter's
    optimizer drops a zero bias, which would leave fewer parameters in the file than in the model.
    """
    import torch

    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.02)

    sample = torch.zeros(1, *shape)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(model, (sample,), str(path), dynamo=True, opset_version=18, optimize=True,
                              external_data=False)
        else:
            torch.onnx.export(model, (sample,), str(path), dynamo=False, opset_version=17,
                              do_constant_folding=False)
    return path


@dataclass(frozen=True)
class Outcome:
    """What cnncalc made of one exported model, against PyTorch's counts."""

    case: str
    status: str  # "exact", "wrong" or "refused" (or "export failed" / "timeout" from the sweep)
    reference: Reference | None
    params: int | None = None
    flops: int | None = None
    outputs: tuple[tuple[int, ...], ...] | None = None
    reason: str = ""


def compare(case: Case, path: Path, expected: Reference) -> Outcome:
    """cnncalc's analysis of the file at `path` against `expected`."""
    import cnncalc

    try:
        report = cnncalc.analyze(path)
    except cnncalc.SpecError as error:
        return Outcome(case.id, "refused", expected, reason=str(error).replace(str(path), path.name))
    outputs = tuple(tuple(shape) for shape in report.outputs.values())
    params, flops = report.totals.params, 2 * report.totals.macs
    wrong = []
    if params != expected.params:
        wrong.append(f"params {params:,} (PyTorch {expected.params:,})")
    if flops != expected.flops:
        wrong.append(f"FLOPs {flops:,} (PyTorch {expected.flops:,})")
    if sorted(outputs) != sorted(expected.outputs):
        wrong.append(f"outputs {list(outputs)} (PyTorch {list(expected.outputs)})")
    return Outcome(case.id, "wrong" if wrong else "exact", expected, params, flops, outputs, "; ".join(wrong))


def run(case: Case, directory: Path, dynamo: bool = False) -> Outcome:
    """Build, count with PyTorch, export, import and compare one case. The export and PyTorch's counts
    are kept in `directory` and reused: only cnncalc's side runs again."""
    path = directory / f"{case.name}{'.dynamo' if dynamo else ''}.onnx"
    stored = path.with_suffix(".json")
    if path.exists() and stored.exists():
        known = json.loads(stored.read_text())
        expected = Reference(known["params"], known["flops"], tuple(tuple(shape) for shape in known["outputs"]))
        return compare(case, path, expected)
    model = build(case)
    shape = input_shape(case, model)
    expected = reference(model, shape)
    try:
        export(model, shape, path, dynamo)
    except Exception as error:  # noqa: BLE001 - an exporter's failure is a row of the table, not cnncalc's
        return Outcome(case.id, "export failed", expected, reason=f"{type(error).__name__}: "
                                                                   f"{str(error).strip().splitlines()[0][:200]}")
    stored.write_text(json.dumps(asdict(expected)))
    return compare(case, path, expected)
