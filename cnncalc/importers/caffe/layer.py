"""A Caffe layer and its typed `*_param` blocks; the fields and types Caffe's text format has."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ...errors import Mark, SpecError
from ..builder import Where
from ..common import guess
from ..prototxt import Field, Message, describe

NET_KEYS = ("name", "input", "input_shape", "input_dim", "force_backward", "state", "debug_info", "layer", "layers",
            "profile_info", "profile_iter", "profile_test_iter")
# Fields only a solver has (caffe.proto's SolverParameter): a file with them and no layers is a solver.
SOLVER_KEYS = frozenset({"base_lr", "lr_policy", "max_iter", "test_iter", "test_interval", "solver_mode", "snapshot",
                         "snapshot_prefix", "momentum", "weight_decay", "display", "type", "solver_type", "gamma",
                         "stepsize", "power", "iter_size", "average_loss", "random_seed", "device_id"})
LAYER_KEYS = ("name", "type", "bottom", "top", "phase", "loss_weight", "param", "blobs", "propagate_down",
              "include", "exclude", "transform_param", "loss_param", "blobs_lr", "weight_decay", "blob_share_mode")

# The V1 format (`layers { type: CONVOLUTION }`) names types with enums.
V1_TYPES = {
    "CONVOLUTION": "Convolution", "DECONVOLUTION": "Deconvolution", "POOLING": "Pooling",
    "INNER_PRODUCT": "InnerProduct", "RELU": "ReLU", "SIGMOID": "Sigmoid", "TANH": "TanH", "LRN": "LRN",
    "DROPOUT": "Dropout", "SOFTMAX": "Softmax", "CONCAT": "Concat", "ELTWISE": "Eltwise", "FLATTEN": "Flatten",
    "SPLIT": "Split", "SILENCE": "Silence", "DATA": "Data", "IMAGE_DATA": "ImageData", "HDF5_DATA": "HDF5Data",
    "MEMORY_DATA": "MemoryData", "WINDOW_DATA": "WindowData", "DUMMY_DATA": "DummyData", "ACCURACY": "Accuracy",
    "SOFTMAX_LOSS": "SoftmaxWithLoss", "EUCLIDEAN_LOSS": "EuclideanLoss", "HINGE_LOSS": "HingeLoss",
    "INFOGAIN_LOSS": "InfogainLoss", "MULTINOMIAL_LOGISTIC_LOSS": "MultinomialLogisticLoss",
    "SIGMOID_CROSS_ENTROPY_LOSS": "SigmoidCrossEntropyLoss", "CONTRASTIVE_LOSS": "ContrastiveLoss",
    "POWER": "Power", "ABSVAL": "AbsVal", "BNLL": "BNLL", "SLICE": "Slice", "THRESHOLD": "Threshold",
    "MVN": "MVN", "ARGMAX": "ArgMax", "EXP": "Exp", "IM2COL": "Im2col", "HDF5_OUTPUT": "HDF5Output",
}
INPUT_TYPES = ("Input", "DummyData", "MemoryData", "Data", "ImageData", "HDF5Data", "WindowData", "AnnotatedData")
TRAINING_ONLY = ("Accuracy", "SoftmaxWithLoss", "EuclideanLoss", "HingeLoss", "InfogainLoss",
                 "MultinomialLogisticLoss", "SigmoidCrossEntropyLoss", "ContrastiveLoss", "Silence", "HDF5Output")
# Layers that decode or propose boxes from what the network computed (SSD's PriorBox and DetectionOutput):
# not counted, listed in the spec's description with what reads them.
NOT_COUNTED = ("PriorBox", "DetectionOutput", "DetectionEvaluate", "Proposal")


def is_training_only(kind: str) -> bool:
    """Losses and accuracies (any type ending in Loss or Accuracy: SmoothL1Loss, MultiBoxLoss, SegAccuracy),
    Silence, HDF5Output."""
    return kind in TRAINING_ONLY or kind.endswith(("Loss", "Accuracy"))


def word(found: Field, filename: str, key: str, example: str) -> str:
    """A name (of a layer, type, blob or input): a string or a bare word, never a number or a block."""
    if not isinstance(found.value, str):
        raise SpecError(f"{key}: {describe(found.value)} is not a name", hint=f"write {key}: \"{example}\"",
                        mark=Mark(filename, found.line, found.column))
    return found.value


@dataclass
class CaffeLayer:
    """One `layer { ... }` with where it was written."""

    message: Message
    name: str
    type: str
    bottoms: list[str]
    tops: list[str]
    where: Where

    def fail(self, problem: str, hint: str | None = None, at: Field | None = None) -> SpecError:
        mark = Mark(self.where.mark.file, at.line, at.column) if at and self.where.mark else self.where.mark
        return SpecError(problem, mark=mark, layer=self.where.layer, hint=hint)


def is_input(layer: CaffeLayer) -> bool:
    """A data layer: one of INPUT_TYPES, or a Python layer or a fork's *Data layer (ImageSegData) that reads
    nothing (its sizes come from --input)."""
    return layer.type in INPUT_TYPES or not layer.bottoms and (layer.type == "Python" or layer.type.endswith("Data"))


class Params:
    """One `*_param { ... }` block of a layer, typed; unknown fields are errors with a guess."""

    def __init__(self, layer: CaffeLayer, block: str, allowed: tuple[str, ...]) -> None:
        self.layer = layer
        self.block = block
        found = layer.message.last(block)
        message = found.value if found is not None else Message(0, 0)
        if not isinstance(message, Message):
            raise layer.fail(f"{block} is {describe(message)}, not a block", f"write {block} {{ ... }}", found)
        self.message = message
        for item in self.message.fields:
            if item.name not in allowed:
                raise layer.fail(f"unknown field '{item.name}' in {block}", f"{guess(item.name, allowed)}{block} takes "
                                 f"{', '.join(allowed)}", item)

    def one(self, key: str) -> Field | None:
        found = self.message.all(key)
        if len(found) > 1:
            raise self.layer.fail(f"{self.block}.{key} is given {len(found)} times", "it takes one value", found[1])
        return found[0] if found else None

    def value(self, key: str, default: Any, kinds: tuple[type, ...], what: str) -> Any:
        found = self.one(key)
        if found is None:
            return default
        if isinstance(found.value, bool) and bool not in kinds or not isinstance(found.value, kinds):
            raise self.layer.fail(f"{self.block}.{key} is {describe(found.value)}", f"it takes {what}", found)
        return found.value

    def integer(self, key: str, default: int | None = None, minimum: int = 0) -> int:
        value = self.value(key, default, (int,), "a whole number")
        if value is None:
            raise self.layer.fail(f"{self.layer.type} needs {self.block}.{key}", "a truncated layer?")
        if value < minimum:
            raise self.layer.fail(f"{self.block}.{key} is {value}", f"it takes a whole number >= {minimum}",
                                  self.one(key))
        return int(value)

    def integers(self, key: str, minimum: int = 0) -> list[int]:
        values = []
        for item in self.message.all(key):
            if isinstance(item.value, bool) or not isinstance(item.value, int) or item.value < minimum:
                raise self.layer.fail(f"{self.block}.{key} is {describe(item.value)}",
                                      f"it takes whole numbers >= {minimum}", item)
            values.append(item.value)
        return values

    def number(self, key: str, default: float) -> float:
        value = float(self.value(key, default, (int, float), "a number"))
        if not math.isfinite(value):
            raise self.layer.fail(f"{self.block}.{key} is {value}", "it takes a finite number", self.one(key))
        return value

    def flag(self, key: str, default: bool) -> bool:
        return bool(self.value(key, default, (bool,), "true or false"))

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = str(self.value(key, default, (str,), f"one of {', '.join(choices)}"))
        if value not in choices:
            raise self.layer.fail(f"{self.block}.{key} is {value}", f"it takes one of {', '.join(choices)}",
                                  self.one(key))
        return value
