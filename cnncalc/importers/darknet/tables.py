"""What Darknet's parser accepts: section aliases, activations, each section's keys, options cnncalc lacks."""

from __future__ import annotations

from typing import Any

# Section names Darknet accepts for the same layer (src/parser.c, string_to_layer_type).
ALIASES = {"network": "net", "conv": "convolutional", "deconv": "deconvolutional", "max": "maxpool",
           "avg": "avgpool", "local_avg": "local_avgpool", "conn": "connected", "soft": "softmax",
           "normalization": "lrn", "silence": "empty"}
HEADS = ("yolo", "region", "detection", "gaussian_yolo", "contrastive")  # contrastive: a training loss at the end

# Darknet activation -> cnncalc layer (None: linear, no layer).
ACTIVATIONS: dict[str, tuple[str, dict[str, Any]] | None] = {
    "linear": None, "leaky": ("leaky_relu", {"negative_slope": 0.1}), "relu": ("relu", {}),
    "relu6": ("relu6", {}), "logistic": ("sigmoid", {}), "tanh": ("tanh", {}), "elu": ("elu", {}),
    "selu": ("selu", {}), "gelu": ("gelu", {}), "mish": ("mish", {}), "swish": ("silu", {}),
    "ramp": ("leaky_relu", {"negative_slope": 0.1}),
}
# Activations cnncalc counts as another with the same cost (no parameters, one function per element).
APPROXIMATED = {"ramp": "Darknet's ramp, x*(x>0) + 0.1x (1.1x above 0), counted as a leaky ReLU"}

# Keys that change nothing cnncalc counts (training settings), accepted in every layer section.
TRAINING_KEYS = {"clip", "onlyforward", "dont_update", "burnin_update", "stopbackward", "train_only_bn",
                 "dontload", "dontloadscales", "learning_rate", "stream", "wait_stream"}

# The keys of each layer section Darknet's parser reads; heads and [net] take any.
KEYS: dict[str, set[str]] = {
    "convolutional": {"filters", "size", "stride", "stride_x", "stride_y", "pad", "padding", "groups",
                      "batch_normalize", "activation", "dilation", "antialiasing", "share_index", "sway", "rotate",
                      "stretch", "stretch_sway", "coordconv", "binary", "xnor", "bin_output", "flipped", "dot",
                      "angle", "grad_centr", "reverse", "cbn", "assisted_excitation"},
    "deconvolutional": {"filters", "size", "stride", "pad", "padding", "batch_normalize", "activation"},
    "maxpool": {"size", "stride", "stride_x", "stride_y", "padding", "maxpool_depth", "out_channels",
                "antialiasing", "maxpool_zero_nonmax"},
    "local_avgpool": {"size", "stride", "stride_x", "stride_y", "padding"},
    "avgpool": set(),
    "route": {"layers", "groups", "group_id"},
    "shortcut": {"from", "activation", "weights_type", "weights_normalization"},
    "upsample": {"stride", "scale"},
    "connected": {"output", "activation", "batch_normalize"},
    "dropout": {"probability", "dropblock", "dropblock_size_rel", "dropblock_size_abs"},
    "softmax": {"groups", "temperature", "tree", "spatial", "noloss"},
    "cost": {"type", "scale", "ratio"},
    "batchnorm": set(),
    "activation": {"activation"},
    "lrn": {"size", "alpha", "beta", "kappa"},
    "sam": {"from", "activation"},
    "scale_channels": {"from", "activation", "scale_wh"},
    "empty": set(),
    "reorg": {"stride", "reverse", "flatten", "extra"},
    "reorg3d": {"stride", "reverse", "flatten", "extra"},
    "crop": {"crop_height", "crop_width", "flip", "angle", "saturation", "exposure", "shift", "noadjust"},
    "local": {"filters", "size", "stride", "pad", "activation"},
    "crnn": {"size", "stride", "dilation", "pad", "padding", "output", "hidden", "groups", "activation",
             "batch_normalize", "xnor", "shortcut", "output_filters", "hidden_filters"},
    "rnn": {"output", "hidden", "activation", "batch_normalize", "logistic", "shortcut"},
    "gru": {"output", "batch_normalize", "tanh"},
    "lstm": {"output", "batch_normalize"},
}

# Options cnncalc cannot express: key -> (the one value it can, why the others are not imported).
UNSUPPORTED_OPTIONS: dict[str, dict[str, tuple[str | None, str]]] = {
    "convolutional": {
        "antialiasing": ("0", "adds a fixed blur convolution after the layer"),
        "share_index": (None, "shares another layer's weights"),
        "sway": ("0", "deformable (rotated) kernels"), "rotate": ("0", "deformable (rotated) kernels"),
        "stretch": ("0", "deformable (stretched) kernels"), "stretch_sway": ("0", "deformable kernels"),
        "coordconv": ("0", "adds coordinate channels"),
    },
    "maxpool": {"maxpool_depth": ("0", "pools across channels"),
                "antialiasing": ("0", "adds a fixed blur convolution after the layer")},
    "softmax": {"groups": ("1", "softmax in groups"), "tree": (None, "hierarchical softmax")},
    "scale_channels": {"scale_wh": ("0", "scales positions rather than channels")},
}

# The prefix of cnncalc names for each section's layer.
PREFIX = {"convolutional": "conv", "deconvolutional": "deconv", "maxpool": "max", "local_avgpool": "local_avg",
          "avgpool": "avg", "connected": "connected", "gaussian_yolo": "gaussian_yolo"}
