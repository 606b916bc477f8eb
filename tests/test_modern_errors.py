"""Every error the token-network types add: the exact message, with the file, line and column
(`<spec>` for a spec given as text) and the layer it belongs to (spec-format.md, "Errors")."""

from __future__ import annotations

import pytest

import cnncalc
from cnncalc.errors import SpecError
from cnncalc.sources import parse

# (id, input shape, layers from line 3 on, the whole message)
ERRORS = [
    ('parameter with from', '[8, 5]', ['{type: parameter, name: cls, from: input, shape: [1, 5]}'],
     "<spec>:3:40: layer 'cls' (parameter): parameter takes no input, but from names one; remove from: a parameter "
     "is read by later layers, as in from: [x, cls]"),
    ('parameter skipped by when', '[8, 5]', ['{type: parameter, name: cls, when: false, shape: [1, 5]}'],
     "<spec>:3:40: layer 'cls' (parameter): when is false, but parameter has no input to pass on; a layer without "
     "inputs cannot be skipped; put when on the layers that read it"),
    ('parameter shape not a list', '[8, 5]', ['{type: parameter, shape: 5}'],
     "<spec>:3:30: layer 'parameter_1' (parameter): shape is 5; shape takes a list of whole numbers >= 1"),
    ('parameter shape with 0', '[8, 5]', ['{type: parameter, shape: [1, 0]}'],
     "<spec>:3:30: layer 'parameter_1' (parameter): shape is 0; shape takes a whole number >= 1"),
    ('matmul of 3', '[8, 5]', ['{type: matmul, from: [input, input, input]}'],
     "<spec>:3:5: layer 'matmul_1' (matmul): matmul takes exactly 2 inputs; got 3 (input 8x5 and 8x5 and 8x5); "
     "list them in from: [a, b]"),
    ('matmul of vectors', '[8]', ['{type: matmul, from: [input, input]}'],
     "<spec>:3:5: layer 'matmul_1' (matmul): matmul expects per-sample shapes of at least 2 axes [..., rows, "
     "columns]; got [8] (input 8 and 8); a linear layer multiplies the last axis by learned weights"),
    ('matmul sizes', '[8, 5]', ['{type: matmul, from: [input, input]}'],
     "<spec>:3:5: layer 'matmul_1' (matmul): matmul of [8, 5] and [8, 5]: 5 columns against 8 rows (input 8x5 and "
     "8x5); the first's last axis must equal the second's rows (transpose_b: true multiplies by its transpose)"),
    ('matmul transpose_b sizes', '[8, 5]', [
        '{type: reshape, name: t, shape: [5, 8]}', '{type: matmul, from: [input, t], transpose_b: true}'],
     "<spec>:4:5: layer 'matmul_1' (matmul): matmul of [8, 5] and [5, 8]: 5 columns against 8 columns (input 8x5 "
     "and 5x8); the first's last axis must equal the second's columns"),
    ('matmul leading axes', '[8, 5]', [
        '{type: matmul, from: [input, input], transpose_b: true, name: ok}',
        '{type: reshape, name: r, from: input, shape: [2, 4, 5]}',
        '{type: reshape, name: s, from: input, shape: [4, 2, 5]}',
        '{type: matmul, from: [r, s], transpose_b: true}'],
     "<spec>:6:5: layer 'matmul_1' (matmul): leading axes 2 and 4 do not broadcast (input 2x4x5 and 4x2x5); sizes "
     "must be equal or 1 on every axis before the last two"),
    ('attention of 2', '[8, 5]', ['{type: attention, from: [input, input]}'],
     "<spec>:3:5: layer 'attention_1' (attention): attention takes 3 inputs (q, k, v) or 4 (q, k, v, mask); got 2 "
     "(input 8x5 and 8x5); list them in from: [q, k, v]"),
    ('attention leading axes', '[2, 8, 5]', [
        '{type: select, name: one, index: 0}',
        '{type: attention, from: [input, input, one]}'],
     "<spec>:4:5: layer 'attention_1' (attention): q [2, 8, 5], k [2, 8, 5] and v [8, 5] have different leading "
     "axes (input 2x8x5 and 2x8x5 and 8x5); q, k and v need the same axes before the last two (batch of heads)"),
    ('attention k and v rows', '[2, 8, 5]', [
        '{type: slice, name: v, dim: 1, end: 3}',
        '{type: attention, from: [input, input, v]}'],
     "<spec>:4:5: layer 'attention_1' (attention): q [2, 8, 5], k [2, 8, 5] and v [2, 3, 5] do not fit (input "
     "2x8x5 and 2x8x5 and 2x3x5); q and k need the same last axis, k and v the same number of rows"),
    ('attention mask', '[2, 8, 5]', [
        '{type: constant, name: m, shape: [3, 8]}',
        '{type: attention, from: [input, input, input, m]}'],
     "<spec>:4:5: layer 'attention_1' (attention): mask [3, 8] does not broadcast to the scores [2, 8, 8] (input "
     "2x8x5 and 2x8x5 and 2x8x5 and 3x8); a mask is [..., L, S] or broadcasts to it"),
    ('attention causal and mask', '[2, 8, 5]', [
        '{type: constant, name: m, shape: [8, 8]}',
        '{type: attention, from: [input, input, input, m], is_causal: true}'],
     "<spec>:4:5: layer 'attention_1' (attention): attention with is_causal and a mask (input 2x8x5 and 2x8x5 and "
     "2x8x5 and 8x8); PyTorch takes one or the other: a causal mask, or is_causal: true with from: [q, k, v]"),
    ('mha of 2', '[8, 6]', ['{type: multihead_attention, from: [input, input], num_heads: 2}'],
     "<spec>:3:5: layer 'multihead_attention_1' (multihead_attention): multihead_attention takes 1 input "
     "(self-attention) or 3 (query, key, value); got 2 (input 8x6 and 8x6); list them in from: [query, key, value]"),
    ('mha of 3 axes', '[2, 8, 6]', ['{type: multihead_attention, num_heads: 2}'],
     "<spec>:3:5: layer 'multihead_attention_1' (multihead_attention): multihead_attention expects [tokens, "
     "features] inputs; got [2, 8, 6] (input 2x8x6); as nn.MultiheadAttention takes [N, L, E]; reshape or permute "
     "to [L, E] first"),
    ('mha key and value tokens', '[8, 6]', [
        '{type: slice, name: kv, end: 3}',
        '{type: multihead_attention, from: [input, input, kv], num_heads: 2}'],
     "<spec>:4:5: layer 'multihead_attention_1' (multihead_attention): key [8, 6] and value [3, 6] have different "
     "numbers of tokens (input 8x6 and 8x6 and 3x6); key and value are [S, kdim] and [S, vdim], with the same S"),
    ('mha embed_dim', '[8, 6]', ['{type: multihead_attention, num_heads: 2, embed_dim: 4}'],
     "<spec>:3:5: layer 'multihead_attention_1' (multihead_attention): embed_dim is 4 but the query has 6 features "
     "(input 8x6); remove embed_dim or make it 6"),
    ('mha heads', '[8, 6]', ['{type: multihead_attention, num_heads: 4}'],
     "<spec>:3:5: layer 'multihead_attention_1' (multihead_attention): num_heads 4 does not divide 6 features "
     "(input 8x6); each head takes embed_dim / num_heads features"),
    ('mha batch_first', '[8, 6]', ['{type: multihead_attention, num_heads: 2, batch_first: false}'],
     "<spec>:3:5: layer 'multihead_attention_1' (multihead_attention): batch_first is false (input 8x6); shapes "
     "are per sample: write [L, E] and batch_first: true"),
    ('einsum no output', '[8, 6]', ["{type: einsum, equation: 'ij,jk'}"],
     "<spec>:3:30: layer 'einsum_1' (einsum): equation 'ij,jk' has no '->' output; write one letter per axis, "
     "operands separated by commas and an explicit output: 'hqd,hkd->hqk'"),
    ('einsum 3 operands', '[8, 6]', ["{type: einsum, equation: 'ij,jk,kl->il'}"],
     "<spec>:3:30: layer 'einsum_1' (einsum): equation 'ij,jk,kl->il' has 3 operands; cnncalc counts einsum of 1 "
     "to 2 operands; chain several"),
    ('einsum diagonal', '[8, 6]', ["{type: einsum, equation: 'ii->i'}"],
     "<spec>:3:30: layer 'einsum_1' (einsum): equation 'ii->i': 'ii' repeats a letter; cnncalc counts einsum "
     "without diagonals: each letter once per operand"),
    ('einsum ellipsis', '[8, 6]', ["{type: einsum, equation: '...i->i'}"],
     "<spec>:3:30: layer 'einsum_1' (einsum): equation '...i->i': '...i' has a character that is not a letter; "
     "write one letter per axis, operands separated by commas and an explicit output: 'hqd,hkd->hqk'"),
    ('einsum empty output', '[8, 6]', ["{type: einsum, equation: 'ij->'}"],
     "<spec>:3:30: layer 'einsum_1' (einsum): equation 'ij->' has no output letters; shapes are per sample: keep "
     "at least one axis (sum over the rest)"),
    ('einsum unknown output letter', '[8, 6]', ["{type: einsum, equation: 'ij->k'}"],
     "<spec>:3:30: layer 'einsum_1' (einsum): equation 'ij->k': the output has letters no operand has; write one "
     "letter per axis, operands separated by commas and an explicit output: 'hqd,hkd->hqk'"),
    ('einsum not text', '[8, 6]', ['{type: einsum, equation: 5}'],
     "<spec>:3:30: layer 'einsum_1' (einsum): equation is 5; equation takes text such as 'bhqd,bhkd->bhqk'"),
    ('einsum operands and inputs', '[8, 6]', ["{type: einsum, equation: 'ij,jk->ik'}"],
     "<spec>:3:5: layer 'einsum_1' (einsum): einsum has 2 operands but from names 1 input (input 8x6); list one "
     "input per operand in from:"),
    ('einsum letters and axes', '[8, 6]', ["{type: einsum, equation: 'ijk->ik'}"],
     "<spec>:3:5: layer 'einsum_1' (einsum): einsum operand 'ijk' has 3 letters for [8, 6] (input 8x6); one letter "
     "per per-sample axis"),
    ('einsum letter sizes', '[8, 6]', ["{type: einsum, from: [input, input], equation: 'ij,jk->ik'}"],
     "<spec>:3:5: layer 'einsum_1' (einsum): einsum letter 'j' is 6 and 8 (input 8x6 and 8x6); a letter names axes "
     "of one size"),
    ('mean axis twice', '[8, 6]', ['{type: mean, dim: [0, -2]}'],
     "<spec>:3:5: layer 'mean_1' (mean): dim [0, -2] names an axis twice (input 8x6); list each per-sample axis once"),
    ('sum of everything', '[8, 6]', ['{type: sum, dim: [0, 1]}'],
     "<spec>:3:5: layer 'sum_1' (sum): sum over every axis leaves nothing per sample (input 8x6); add keepdim: "
     "true, or leave one axis out of dim"),
    ('max axis out of range', '[8, 6]', ['{type: max, dim: 2}'],
     "<spec>:3:5: layer 'max_1' (max): dim 2 is out of range for a sample of 2 axes (input 8x6); dim counts the "
     "per-sample axes from 0 (channels) to 1"),
    ('select of a vector', '[8]', ['{type: select, index: 0}'],
     "<spec>:3:5: layer 'select_1' (select): select of [8] leaves nothing per sample (input 8); select from a "
     "tensor of 2 axes or more"),
    ('select index out of range', '[8, 6]', ['{type: select, dim: 1, index: 6}'],
     "<spec>:3:5: layer 'select_1' (select): index 6 is out of range for an axis of 6 (input 8x6); index counts "
     "from 0 to 5, or back from -1"),
    ('stack of different shapes', '[8, 6]', ['{type: slice, name: s, end: 2}', '{type: stack, from: [input, s]}'],
     "<spec>:4:5: layer 'stack_1' (stack): stack of different shapes 8x6 and 2x6 (input 8x6 and 2x6); every input "
     "must have the same shape"),
    ('expand to fewer axes', '[8, 6]', ['{type: expand, shape: [6]}'],
     "<spec>:3:5: layer 'expand_1' (expand): expand to [6] has fewer axes than [8, 6] (input 8x6); give one entry "
     "per axis (-1 keeps it), and any new axes first"),
    ('expand a size that is not 1', '[8, 6]', ['{type: expand, shape: [8, 7]}'],
     "<spec>:3:5: layer 'expand_1' (expand): cannot expand [8, 6] to [8, 7] (input 8x6); only axes of size 1 grow; "
     "-1 keeps an axis; new axes go first and need a size"),
    ('expand a new axis to -1', '[8, 6]', ['{type: expand, shape: [-1, 8, 6]}'],
     "<spec>:3:5: layer 'expand_1' (expand): cannot expand [8, 6] to [-1, 8, 6] (input 8x6); only axes of size 1 "
     "grow; -1 keeps an axis; new axes go first and need a size"),
    ('roll shifts and dims', '[8, 6]', ['{type: roll, shifts: [1, 2], dims: 0}'],
     "<spec>:3:5: layer 'roll_1' (roll): roll has 2 shifts for 1 dims (input 8x6); give one shift per axis in dims"),
    ('roll axis out of range', '[8, 6]', ['{type: roll, shifts: 1, dims: 3}'],
     "<spec>:3:5: layer 'roll_1' (roll): dims entry 3 is out of range for a sample of 2 axes (input 8x6); dims "
     "entry counts the per-sample axes from 0 (channels) to 1"),
    ('rmsnorm shape', '[8, 6]', ['{type: rmsnorm, normalized_shape: 8}'],
     "<spec>:3:5: layer 'rmsnorm_1' (rmsnorm): normalized_shape [8] does not match the trailing axes of [8, 6] "
     "(input 8x6); give the sizes of the last axes, e.g. 6"),
    ('pow without exponent', '[8, 6]', ['{type: pow}'],
     "<spec>:3:5: layer 'pow_1' (pow): missing required field 'exponent'; pow needs exponent"),
    ('normalize p 0', '[8, 6]', ['{type: normalize, p: 0}'],
     "<spec>:3:26: layer 'normalize_1' (normalize): p is 0; p takes a number > 0"),
    ('div of 3', '[8, 6]', ['{type: div, from: [input, input, input]}'],
     "<spec>:3:5: layer 'div_1' (div): div takes exactly 2 inputs; got 3 (input 8x6 and 8x6 and 8x6); list them in "
     "from: [a, b]"),]


@pytest.mark.parametrize(("shape", "layers", "message"), [case[1:] for case in ERRORS],
                         ids=[case[0] for case in ERRORS])
def test_message_and_location(shape: str, layers: list[str], message: str) -> None:
    text = f"input: {{shape: {shape}}}\nlayers:\n" + "".join(f"  - {layer}\n" for layer in layers)
    with pytest.raises(SpecError) as raised:
        parse(text)
    assert str(raised.value) == message


def test_a_block_may_keep_the_name_of_a_newer_type() -> None:
    """Specs written before attention was a type keep their meaning: their block wins."""
    spec = ("input: {shape: [8, 6]}\nblocks:\n  attention:\n    layers:\n      - {type: relu}\n"
            "layers:\n  - {type: attention}\n  - {type: attention, name: again}\n")
    report = cnncalc.analyze(spec)
    assert [(row.name, row.type) for row in report.layers] == [("attention_1.relu_1", "relu"),
                                                               ("again.relu_1", "relu")]


def test_a_parameter_is_read_through_from_and_counted_once_per_instance() -> None:
    spec = ("input: {shape: [8, 6]}\nlayers:\n  - {type: parameter, name: p, shape: [1, 6], repeat: 2}\n"
            "  - {type: add, from: [input, p]}\n")
    report = cnncalc.analyze(spec, batch=3)
    assert [(row.name, row.inputs, row.output_shape, row.params) for row in report.layers] == [
        ("p.0", (), (3, 1, 6), 6), ("p.1", (), (3, 1, 6), 6), ("add_1", ("input", "p.1"), (3, 8, 6), 0)]
    assert report.totals.params == 12
