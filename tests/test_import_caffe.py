"""Caffe prototxt import against published shapes and parameter counts.

AlexNet (BVLC deploy, 60,965,224 parameters) and SqueezeNet v1.1 (DeepScale deploy,
1,235,496 parameters) are bundled in tests/data; their per-layer output sizes are the
ones the papers and Netscope (Caffe's own shape rules, drawn) show. Caffe pooling rounds
up: SqueezeNet's pool3 and pool5 and GoogLeNet's four max pools are where rounding down
would give a different size.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import cnncalc
from cnncalc.cli import main
from cnncalc.importers import ImportOptions, import_spec

DATA = Path(__file__).resolve().parent / "data"
ALEXNET = DATA / "alexnet_caffe.prototxt"
SQUEEZENET = DATA / "squeezenet_v1.1.prototxt"

# Krizhevsky et al. 2012 as BVLC's deploy.prototxt builds it (227x227 input, two groups in conv2, 4, 5).
ALEXNET_LAYERS = [
    ("conv1", (96, 55, 55), 34_944), ("pool1", (96, 27, 27), 0), ("conv2", (256, 27, 27), 307_456),
    ("pool2", (256, 13, 13), 0), ("conv3", (384, 13, 13), 885_120), ("conv4", (384, 13, 13), 663_936),
    ("conv5", (256, 13, 13), 442_624), ("pool5", (256, 6, 6), 0), ("fc6", (4096,), 37_752_832),
    ("fc7", (4096,), 16_781_312), ("fc8", (1000,), 4_097_000), ("prob", (1000,), 0),
]

# Iandola et al., SqueezeNet v1.1 (DeepScale/SqueezeNet): Netscope's shapes of its deploy.prototxt.
SQUEEZENET_LAYERS = [
    ("conv1", (64, 113, 113)), ("pool1", (64, 56, 56)), ("fire2/concat", (128, 56, 56)),
    ("fire3/concat", (128, 56, 56)), ("pool3", (128, 28, 28)), ("fire4/concat", (256, 28, 28)),
    ("fire5/concat", (256, 28, 28)), ("pool5", (256, 14, 14)), ("fire6/concat", (384, 14, 14)),
    ("fire7/concat", (384, 14, 14)), ("fire8/concat", (512, 14, 14)), ("fire9/concat", (512, 14, 14)),
    ("conv10", (1000, 14, 14)), ("pool10", (1000, 1, 1)), ("prob", (1000, 1, 1)),
]


def rows(path: Path, **options: object) -> dict[str, tuple[tuple[int, ...], int]]:
    report = cnncalc.analyze(path, **options)  # type: ignore[arg-type]
    return {row.name: (row.output_shape[1:], row.params) for row in report.layers}


@pytest.mark.parametrize(("name", "shape", "params"), ALEXNET_LAYERS, ids=[row[0] for row in ALEXNET_LAYERS])
def test_alexnet_layer(name: str, shape: tuple[int, ...], params: int) -> None:
    assert rows(ALEXNET)[name] == (shape, params)


def test_alexnet_totals() -> None:
    report = cnncalc.analyze(ALEXNET, batch=1)
    assert report.totals.params == 60_965_224  # BVLC AlexNet, as published
    assert report.totals.buffers == 0
    assert report.totals.macs == 724_406_816  # every conv and fc MAC of one 227x227 image


def test_alexnet_keeps_the_deploy_batch_of_ten() -> None:
    spec = import_spec(ALEXNET, ImportOptions())
    assert spec["inputs"] == {"data": {"shape": [3, 227, 227], "batch": 10}}
    assert cnncalc.analyze(ALEXNET).totals.macs == 10 * 724_406_816
    assert "Batch 10" in spec["description"]


def test_alexnet_in_place_relus_chain_as_caffe_runs_them() -> None:
    report = cnncalc.analyze(ALEXNET)
    inputs = {row.name: row.inputs for row in report.layers}
    assert inputs["relu1"] == ("conv1",) and inputs["norm1"] == ("relu1",)
    assert inputs["fc6/flatten"] == ("pool5",) and inputs["fc7"] == ("drop6",)


@pytest.mark.parametrize(("name", "shape"), SQUEEZENET_LAYERS, ids=[row[0] for row in SQUEEZENET_LAYERS])
def test_squeezenet_layer(name: str, shape: tuple[int, ...]) -> None:
    assert rows(SQUEEZENET)[name][0] == shape


def test_squeezenet_totals() -> None:
    report = cnncalc.analyze(SQUEEZENET, batch=1)
    assert report.totals.params == 1_235_496  # SqueezeNet v1.1, as published
    assert report.name == "SqueezeNet v1.1"


def test_ceil_pooling_is_written_out() -> None:
    layers = {layer["name"]: layer for layer in import_spec(SQUEEZENET, ImportOptions())["layers"]}
    assert layers["pool3"] == {"type": "maxpool2d", "name": "pool3", "from": "fire3/concat", "kernel_size": 3,
                               "stride": 2, "ceil_mode": True}
    assert layers["pool10"]["type"] == "global_avgpool"


def _prototxt(tmp_path: Path, body: str, shape: str = "dim: 1 dim: 3 dim: 32 dim: 32") -> Path:
    path = tmp_path / "net.prototxt"
    path.write_text(f'name: "net"\ninput: "data"\ninput_shape {{ {shape} }}\n{body}')
    return path


# Caffe's PoolingLayer::Reshape: out = ceil((in + 2p - k)/s) + 1, less one when padded and the last
# window would start in the padding. GoogLeNet's max pools (Szegedy et al. 2015, table 1) round up.
@pytest.mark.parametrize(("size", "kernel", "stride", "pad", "expected"), [
    pytest.param(112, 3, 2, 0, 56, id="googlenet-pool1-112"),
    pytest.param(56, 3, 2, 0, 28, id="googlenet-pool2-56"),
    pytest.param(28, 3, 2, 0, 14, id="googlenet-pool3-28"),
    pytest.param(14, 3, 2, 0, 7, id="googlenet-pool4-14"),
    pytest.param(14, 3, 1, 1, 14, id="googlenet-inception-pool-3x3-s1-p1"),
    pytest.param(5, 2, 2, 1, 3, id="last-window-in-the-padding-dropped"),
    pytest.param(6, 3, 2, 1, 4, id="padded-kept"),
])
def test_caffe_pooling_sizes(tmp_path: Path, size: int, kernel: int, stride: int, pad: int, expected: int) -> None:
    path = _prototxt(tmp_path, f'layer {{ name: "pool" type: "Pooling" bottom: "data" top: "pool" pooling_param '
                               f'{{ pool: MAX kernel_size: {kernel} stride: {stride} pad: {pad} }} }}\n',
                     f"dim: 1 dim: 8 dim: {size} dim: {size}")
    assert rows(path)["pool"][0] == (8, expected, expected)


def test_round_mode_floor(tmp_path: Path) -> None:
    path = _prototxt(tmp_path, 'layer { name: "pool" type: "Pooling" bottom: "data" top: "pool" pooling_param '
                               '{ pool: AVE kernel_size: 3 stride: 2 round_mode: FLOOR } }\n',
                     "dim: 1 dim: 8 dim: 56 dim: 56")
    assert rows(path)["pool"][0] == (8, 27, 27)


def test_batchnorm_and_scale_count_like_one_pytorch_batchnorm(tmp_path: Path) -> None:
    path = _prototxt(tmp_path, """
layer { name: "conv" type: "Convolution" bottom: "data" top: "conv"
        convolution_param { num_output: 8 kernel_size: 3 pad: 1 bias_term: false } }
layer { name: "bn" type: "BatchNorm" bottom: "conv" top: "conv" batch_norm_param { use_global_stats: true } }
layer { name: "scale" type: "Scale" bottom: "conv" top: "conv" scale_param { bias_term: true } }
layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" }
""")
    report = cnncalc.analyze(path)
    counts = {row.name: (row.type, row.params, row.buffers) for row in report.layers}
    assert counts == {"conv": ("conv2d", 216, 0), "bn": ("batchnorm2d", 0, 16), "scale": ("scale", 16, 0),
                      "relu": ("relu", 0, 0)}
    assert "one-element moving-average factor" in import_spec(path, ImportOptions())["description"]


@pytest.mark.parametrize(("body", "expected"), [
    pytest.param('layer { name: "r" type: "ReLU" bottom: "data" top: "r" relu_param { negative_slope: 0.2 } }',
                 [("r", "leaky_relu", (3, 32, 32), 0)], id="leaky-relu"),
    pytest.param('layer { name: "p" type: "PReLU" bottom: "data" top: "p" }\n'
                 'layer { name: "q" type: "PReLU" bottom: "p" top: "q" prelu_param { channel_shared: true } }',
                 [("p", "prelu", (3, 32, 32), 3), ("q", "prelu", (3, 32, 32), 1)], id="prelu"),
    pytest.param('layer { name: "d" type: "Deconvolution" bottom: "data" top: "d" convolution_param '
                 '{ num_output: 4 kernel_size: 4 stride: 2 pad: 1 } }',
                 [("d", "conv_transpose2d", (4, 64, 64), 3 * 4 * 16 + 4)], id="deconvolution"),
    pytest.param('layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param '
                 '{ num_output: 6 kernel_h: 3 kernel_w: 1 pad_h: 1 pad_w: 0 stride_h: 2 stride_w: 1 group: 3 '
                 'dilation: 1 } }',
                 [("c", "conv2d", (6, 16, 32), 6 * 3 + 6)], id="conv-h-w"),
    pytest.param('layer { name: "a" type: "Eltwise" bottom: "data" bottom: "data" top: "a" }\n'
                 'layer { name: "m" type: "Eltwise" bottom: "a" bottom: "data" top: "m" '
                 'eltwise_param { operation: PROD } }\n'
                 'layer { name: "s" type: "Eltwise" bottom: "m" bottom: "a" top: "s" '
                 'eltwise_param { coeff: 1 coeff: -1 } }',
                 [("a", "add", (3, 32, 32), 0), ("m", "mul", (3, 32, 32), 0), ("s", "sub", (3, 32, 32), 0)],
                 id="eltwise"),
    pytest.param('layer { name: "split" type: "Split" bottom: "data" top: "x" top: "y" }\n'
                 'layer { name: "cat" type: "Concat" bottom: "x" bottom: "y" top: "cat" concat_param { axis: 1 } }\n'
                 'layer { name: "f" type: "Flatten" bottom: "cat" top: "f" }\n'
                 'layer { name: "sm" type: "Softmax" bottom: "f" top: "sm" }',
                 [("cat", "concat", (6, 32, 32), 0), ("f", "flatten", (6144,), 0), ("sm", "softmax", (6144,), 0)],
                 id="split-concat-flatten-softmax"),
    pytest.param('layer { name: "r" type: "Reshape" bottom: "data" top: "r" reshape_param '
                 '{ shape { dim: 0 dim: 0 dim: -1 } } }\n'
                 'layer { name: "t" type: "TanH" bottom: "r" top: "t" }\n'
                 'layer { name: "e" type: "ELU" bottom: "t" top: "e" elu_param { alpha: 0.5 } }\n'
                 'layer { name: "g" type: "Sigmoid" bottom: "e" top: "g" }',
                 [("r", "reshape", (3, 1024), 0), ("t", "tanh", (3, 1024), 0), ("e", "elu", (3, 1024), 0),
                  ("g", "sigmoid", (3, 1024), 0)], id="reshape-activations"),
    pytest.param('layer { name: "bn" type: "BatchNorm" bottom: "data" top: "bn" }\n'
                 'layer { name: "ip" type: "InnerProduct" bottom: "bn" top: "ip" inner_product_param '
                 '{ num_output: 10 bias_term: false } }\n'
                 'layer { name: "bn1" type: "BatchNorm" bottom: "ip" top: "ip" }\n'
                 'layer { name: "drop" type: "Dropout" bottom: "ip" top: "ip" dropout_param { dropout_ratio: 0.4 } }',
                 [("bn", "batchnorm2d", (3, 32, 32), 0), ("ip/flatten", "flatten", (3072,), 0),
                  ("ip", "linear", (10,), 30720), ("bn1", "batchnorm1d", (10,), 0), ("drop", "dropout", (10,), 0)],
                 id="batchnorm-ranks"),
])
def test_layer_types(tmp_path: Path, body: str, expected: list[tuple[str, str, tuple[int, ...], int]]) -> None:
    report = cnncalc.analyze(_prototxt(tmp_path, body + "\n"))
    assert [(row.name, row.type, row.output_shape[1:], row.params) for row in report.layers] == expected


def test_input_forms(tmp_path: Path) -> None:
    layer = 'layer { name: "r" type: "ReLU" bottom: "data" top: "r" }\n'
    forms = {
        "input_dim": 'input: "data"\ninput_dim: 2\ninput_dim: 3\ninput_dim: 8\ninput_dim: 8\n',
        "input_layer": 'layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 8 '
                       'dim: 8 } } }\n',
        "dummy_data": 'layer { name: "data" type: "DummyData" top: "data" dummy_data_param { shape { dim: 2 dim: 3 '
                      'dim: 8 dim: 8 } } }\n',
        "memory_data": 'layer { name: "data" type: "MemoryData" top: "data" top: "label" memory_data_param '
                       '{ batch_size: 2 channels: 3 height: 8 width: 8 } }\n',
    }
    for form, head in forms.items():
        path = tmp_path / f"{form}.prototxt"
        path.write_text(head + layer)
        report = cnncalc.analyze(path)
        assert (report.inputs, report.assumptions.batch) == ({"input": (2, 3, 8, 8)}, 2), form


def test_train_val_needs_input_sizes_and_drops_training_layers(tmp_path: Path) -> None:
    path = tmp_path / "train_val.prototxt"
    path.write_text("""name: "tiny"
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TRAIN }
        data_param { source: "train_lmdb" batch_size: 64 } }
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TEST }
        data_param { source: "val_lmdb" batch_size: 50 } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 10 } }
layer { name: "drop" type: "Dropout" bottom: "ip" top: "ip" include { phase: TRAIN } }
layer { name: "accuracy" type: "Accuracy" bottom: "ip" bottom: "label" top: "accuracy" include { phase: TEST } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
""")
    with pytest.raises(cnncalc.SpecError) as raised:
        cnncalc.analyze(path)
    assert str(raised.value) == (f"{path}:4:1: layer 'data' (Data): the data layer 'data' reads its sizes from a "
                                 "dataset; give them: --input data=CxHxW, or import the deploy prototxt")
    report = cnncalc.analyze(path, inputs={"data": (1, 28, 28)})
    assert [row.name for row in report.layers] == ["ip/flatten", "ip"]
    assert "Left out as training-only: accuracy (Accuracy), loss (SoftmaxWithLoss)." in \
        import_spec(path, ImportOptions({"data": (1, 28, 28)}))["description"]


def test_v1_layers_format(tmp_path: Path) -> None:
    path = tmp_path / "v1.prototxt"
    path.write_text('input: "data"\ninput_dim: 1\ninput_dim: 3\ninput_dim: 16\ninput_dim: 16\n'
                    'layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1" blobs_lr: 1 blobs_lr: 2 '
                    'convolution_param { num_output: 4 kernel_size: 3 } }\n'
                    'layers { name: "relu1" type: RELU bottom: "conv1" top: "conv1" }\n'
                    'layers { name: "pool1" type: POOLING bottom: "conv1" top: "pool1" '
                    'pooling_param { pool: MAX kernel_size: 2 stride: 2 } }\n')
    assert rows(path) == {"conv1": ((4, 14, 14), 112), "relu1": ((4, 14, 14), 0), "pool1": ((4, 7, 7), 0)}


def test_several_outputs_are_listed(tmp_path: Path) -> None:
    path = _prototxt(tmp_path, 'layer { name: "a" type: "ReLU" bottom: "data" top: "a" }\n'
                               'layer { name: "b" type: "Sigmoid" bottom: "data" top: "b" }\n')
    assert import_spec(path, ImportOptions())["outputs"] == ["a", "b"]
    assert set(cnncalc.analyze(path).outputs) == {"a", "b"}


# -- errors: file:line:col, the layer, what is wrong; every unsupported layer at once -------

@pytest.mark.parametrize(("body", "message"), [
    pytest.param('layer {\n  name: "c1"\n  type: "Convolution"\n  bottom: "data"\n  top: "c1"\n  convolution_param {\n'
                 '    num_output: 8\n',
                 "net.prototxt:11:1: layer 'c1' (Convolution): the file ends inside 'convolution_param' opened at "
                 "line 9; a truncated file?", id="truncated-inside-a-block"),
    pytest.param('layer {\n  name: "c1"\n  type: "Convolution"\n  convolution_para',
                 "net.prototxt:7:19: layer 'c1' (Convolution): the file ends after 'convolution_para'",
                 id="truncated-field-name"),
    pytest.param('layer { name: "c1 type: "ReLU" }',
                 "net.prototxt:4:30: a string is not closed on its line", id="unclosed-string"),
    pytest.param('layer { name: "r" type: "ReLU" bottom: "data" top: "r" } }',
                 "net.prototxt:4:58: '}' closes nothing here", id="extra-brace"),
    pytest.param('layer { name: "c1" type: "Convolution" bottom: "data" top: "c1" '
                 'convolution_param { num_output: 8 kernal_size: 3 } }',
                 "net.prototxt:4:99: layer 'c1' (Convolution): unknown field 'kernal_size' in convolution_param; "
                 "did you mean 'kernel_size'?", id="typo"),
    pytest.param('layer { name: "c1" type: "Convolution" bottom: "data" top: "c1" '
                 'convolution_param { num_output: 8 } }',
                 "net.prototxt:4:1: layer 'c1' (Convolution): Convolution needs convolution_param.kernel_size",
                 id="missing-kernel"),
    pytest.param('layer { name: "c1" type: "Convolution" bottom: "dta" top: "c1" '
                 'convolution_param { num_output: 8 kernel_size: 3 } }',
                 "net.prototxt:4:40: layer 'c1' (Convolution): bottom 'dta' is not written by any layer before it; "
                 "blobs so far: data", id="unknown-bottom"),
    pytest.param('layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param '
                 '{ pool: MAX kernel_size: 1 stride: 3 } }',
                 "net.prototxt:4:1: layer 'p' (Pooling): Caffe's pooling makes 12x12 here, cnncalc's ceil_mode "
                 "11x11", id="window-past-the-input"),
    pytest.param('layer { name: "c1" type: "Convolution" bottom: "data" top: "c1" '
                 'convolution_param { num_output: 8 kernel_size: 33 } }',
                 "net.prototxt:4:1: layer 'c1' (Convolution): as cnncalc conv2d: kernel 33x33 (dilation 1) is "
                 "larger than the padded input 32x32", id="kernel-too-large"),
    pytest.param('layre { name: "x" }', "net.prototxt:4:1: unknown field 'layre' at the top of the file; "
                                        "did you mean 'layer'?", id="top-level-typo"),
])
def test_errors(tmp_path: Path, body: str, message: str) -> None:
    path = _prototxt(tmp_path, body)
    code, out, err = _run("analyze", str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"{tmp_path}/{message}"), err


def test_every_unsupported_layer_is_listed_at_once(tmp_path: Path) -> None:
    path = _prototxt(tmp_path, """
layer { name: "apl" type: "APL" bottom: "data" top: "apl" }
layer { name: "roi" type: "ROIPooling" bottom: "data" bottom: "apl" top: "roi" }
layer { name: "gate" type: "GatedMaxAve" bottom: "roi" top: "gate" }
""")
    with pytest.raises(cnncalc.SpecError) as raised:
        cnncalc.analyze(path)
    assert str(raised.value).startswith(
        f"{path}:5:1: cannot import 3 layer(s): 'apl' (APL, line 5); 'roi' (ROIPooling, line 6); "
        "'gate' (GatedMaxAve, line 7); cnncalc has no layer type for these")


def _run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(arguments))
    return result.exit_code, result.stdout, result.stderr


def test_import_command(tmp_path: Path) -> None:
    code, out, _ = _run("import", str(ALEXNET), "--batch", "1")
    assert code == 0
    assert "input: {shape: [3, 227, 227], batch: 1}" in out
    assert "  - {type: conv2d, name: conv2, out_channels: 256, kernel_size: 5, padding: 2, groups: 2}" in out
    assert "  - {type: maxpool2d, name: pool1, kernel_size: 3, stride: 2, ceil_mode: true}" in out
    assert "  - {type: linear, name: fc7, from: drop6, out_features: 4096}" not in out  # drop6 is the entry before
    target = tmp_path / "alexnet.yaml"
    target.write_text(out)
    assert cnncalc.analyze(target).totals.params == 60_965_224
