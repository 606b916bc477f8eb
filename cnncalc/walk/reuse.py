"""Block instances walked once: a block instance whose parameters and input shapes were seen
before takes the records of the first such instance, renamed, instead of a walk.

A network made of repeated stages then costs its distinct stages only. The result is what
a full walk gives: the names are the instance's own, the receptive fields are computed
again from the instance's inputs (they grow along a chain, the counts and shapes do not),
and the walk's bounds are charged as the full walk would charge them: the layer limit's
checks and the expression work are replayed, and where one would fail, the instance is
walked in full so that the error is reported where it is. An instance that names a layer
outside itself by its full name (`from: layer1.0.conv`) is never reused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from .. import interpolate
from ..expr import ExpressionError
from ..graph import LayerRecord, Tensor
from ..limits import LAYER_LIMIT
from ..scope import Context
from ..yamlread import Map, Seq
from .expansion import Expansion
from .inference import Inference
from .naming import Naming

# The walk runs with reuse unless this is False (tests compare both ways).
REUSE_BLOCKS = True


class Recording(NamedTuple):
    """What one block instance's walk did, relative to the instance."""

    prefix: str  # the instance's full name and a dot: every name inside starts with it
    depth: int  # len(path) of the instance's records before the instance's own part
    inputs: tuple[str, ...]  # the producers of the instance's inputs
    records: tuple[LayerRecord, ...]
    output: str  # the producer of the tensor the instance returns
    writes: tuple[tuple[str, str], ...]  # (name after the prefix, producer): the names `from:` may use
    expanded: int  # entries walked inside
    checks: tuple[tuple[int, int, int], ...]  # layer-limit checks: (entries before it, layers, fanout inside)
    largest: tuple[int, int]  # the largest offset and layers x fanout of `checks`, a quick bound
    fills: tuple[tuple[int, Any, Any], ...]  # expressions charged: (steps, cache key, value)


class Reuse:
    """The recordings of one walk, and the journals that instances being walked write to."""

    def __init__(self, blocks: dict[str, Map], inference: Inference, naming: Naming, expansion: Expansion) -> None:
        self.blocks = blocks
        self.expansion = expansion
        self.inference = inference
        self.naming = naming
        self.everything = naming.everything
        self.evaluator = inference.values.evaluator
        self.known: dict[Any, Recording] = {}
        self.recording = 0  # instances being walked for a recording, nested
        self.writes: list[tuple[str, Tensor]] | None = None  # names `from:` may use, while recording
        self._reads_i: dict[str, bool] = {}

    # -- keys -------------------------------------------------------------------------------

    def key(self, kind: str, own: Mapping[str, Any], inputs: list[Tensor], context: Context) -> Any:
        """What a block instance's walk depends on, or None when it cannot be a key."""
        if not REUSE_BLOCKS:
            return None
        producers = [tensor.producer for tensor in inputs]
        aliases = tuple(producers.index(producer) for producer in producers)  # the same tensor given twice
        values = tuple((name, _frozen(value)) for name, value in own.items() if name != "i" or self.reads_i(kind))
        return (kind, values, tuple(tensor.shape for tensor in inputs), aliases, len(context.path),
                context.active_blocks)

    def reads_i(self, kind: str) -> bool:
        """Whether the block, or a block it may use, reads the repeat index `i`."""
        if not self._reads_i:
            direct = {name: _reads_name(block, "i") for name, block in self.blocks.items()}
            uses = {name: _block_types(block, self.blocks) for name, block in self.blocks.items()}
            for name in self.blocks:
                seen, todo = {name}, [name]
                while todo:
                    for used in uses[todo.pop()]:
                        if used not in seen:
                            seen.add(used)
                            todo.append(used)
                self._reads_i[name] = any(direct[used] for used in seen)
        return self._reads_i[kind]

    # -- recording --------------------------------------------------------------------------

    def start(self) -> tuple[int, ...]:
        """Begin recording an instance: where each journal stands now."""
        if self.recording == 0:
            self.expansion.checks, self.writes, self.evaluator.journal = [], [], []  # what the walk will write
        self.recording += 1
        assert self.expansion.checks is not None and self.writes is not None and self.evaluator.journal is not None
        return (len(self.inference.records), len(self.expansion.checks), len(self.writes), len(self.evaluator.journal),
                self.naming.full_name_lookups)

    def finish(self, key: Any, marks: tuple[int, ...], expanded: tuple[int, int], full_name: str,
               context: Context, inputs: list[Tensor], output: Tensor) -> None:
        """Keep what the instance's walk did, unless it reached outside itself."""
        assert self.expansion.checks is not None and self.writes is not None and self.evaluator.journal is not None
        records_at, checks_at, writes_at, fills_at, lookups_at = marks
        before, after = expanded
        prefix = full_name + "."
        producers = tuple(tensor.producer for tensor in inputs)
        records = tuple(self.inference.records[records_at:])
        inside = {record.name for record in records}
        reusable = (self.naming.full_name_lookups == lookups_at and not any(name.startswith(prefix) for name in producers)
                    and all(source in inside or source in producers for record in records for source in record.inputs)
                    and all(tensor.producer in inside or tensor.producer in producers
                            for _, tensor in self.writes[writes_at:])
                    and (output.producer in inside or output.producer in producers))
        if reusable and key not in self.known:
            checks = tuple((at - before, layers, scale // context.fanout)
                           for at, layers, scale in self.expansion.checks[checks_at:])
            largest = (max((offset for offset, _, _ in checks), default=0),
                       max((layers * inner for _, layers, inner in checks), default=0))
            writes = tuple((name[len(prefix):], tensor.producer) for name, tensor in self.writes[writes_at:])
            self.known[key] = Recording(prefix, len(context.path), producers, records, output.producer, writes,
                                        after - before, checks, largest, tuple(self.evaluator.journal[fills_at:]))
        self.recording -= 1
        if self.recording == 0:
            self.expansion.checks = self.writes = self.evaluator.journal = None  # the walk writes no journal

    # -- replaying --------------------------------------------------------------------------

    def charge(self, recording: Recording, expanded: int, fanout: int) -> bool:
        """Charge the bounds as the instance's walk would; False (nothing charged) when one
        would fail, so that the instance is walked and the error reported where it is."""
        offset, layers = recording.largest
        if expanded + offset + layers * fanout > LAYER_LIMIT and any(
                expanded + at + count * inner * fanout > LAYER_LIMIT for at, count, inner in recording.checks):
            return False
        evaluator = self.evaluator
        work, known = evaluator.work, evaluator.known
        added: dict[Any, Any] = {}
        charged = []
        for fill in recording.fills:  # as Evaluator.fill would
            steps, key, value = fill
            if key is not None and (key in known or key in added):
                continue
            work += steps
            if work > evaluator.limit:
                return False
            charged.append(fill)
            if key is not None and len(known) + len(added) < interpolate.KEPT:
                added[key] = value
        evaluator.work = work
        known.update(added)
        if self.recording:  # an instance around this one is being recorded: it did all this too
            assert self.expansion.checks is not None and evaluator.journal is not None
            self.expansion.checks += [(expanded + at, count, inner * fanout) for at, count, inner in recording.checks]
            evaluator.journal += charged
        return True

    def replay(self, recording: Recording, full_name: str, context: Context, inputs: list[Tensor]) -> Tensor:
        """The instance's records, renamed to `full_name`, with its own receptive fields."""
        prefix, cut, depth = full_name + ".", len(recording.prefix), recording.depth
        tensors = dict(zip(recording.inputs, inputs))  # old producer -> this instance's tensor
        places: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {}  # old path's id -> (path, block types)
        outer_path, outer_types = context.path + (full_name,), context.block_types
        field_of, append = self.inference.field_of, self.inference.records.append
        for record in recording.records:
            cost = record.cost
            if len(record.inputs) == 1:
                sources = [tensors[record.inputs[0]]]
                producers: tuple[str, ...] = (sources[0].producer,)
            else:
                sources = [tensors[source] for source in record.inputs]
                producers = tuple(tensor.producer for tensor in sources)
            field = field_of(cost, record.layer, sources)
            place = places.get(id(record.path))
            if place is None:
                place = places[id(record.path)] = (
                    outer_path + tuple(prefix + item[cut:] for item in record.path[depth + 1:]),
                    outer_types + record.block_types[depth:])
            name = prefix + record.name[cut:]
            append(LayerRecord(name, record.type, producers, record.layer, cost, field, place[0], place[1],
                               record.where))
            tensors[record.name] = Tensor(cost.shape, name, field)
        for suffix, producer in recording.writes:
            tensor = tensors[producer]
            self.everything[prefix + suffix] = tensor
            if self.writes is not None:
                self.writes.append((prefix + suffix, tensor))
        return tensors[recording.output]


def _frozen(value: Any) -> Any:
    """A key for a parameter's value: types keep 1, 1.0 and true apart, hex keeps -0.0 apart."""
    if isinstance(value, float):
        return (float, value.hex())
    if isinstance(value, (list, tuple)):
        return (list, tuple(_frozen(item) for item in value))
    if isinstance(value, dict):
        return (dict, tuple((_frozen(key), _frozen(item)) for key, item in value.items()))
    return (type(value), value)


def _strings(value: Any) -> Any:
    if isinstance(value, str):
        yield value
    elif isinstance(value, (Map, Seq)):
        for item in (value.values() if isinstance(value, Map) else value):
            yield from _strings(item)
        if isinstance(value, Map):
            for key in value:
                yield from _strings(key)


def _reads_name(block: Any, name: str) -> bool:
    """Whether an expression in the block reads `name` (one that cannot be parsed counts)."""
    for text in _strings(block):
        if "$" not in text:
            continue
        try:
            if interpolate.reads(text, name):
                return True
        except ExpressionError:  # the walk reports it where it is
            return True
    return False


def _block_types(block: Any, blocks: dict[str, Map]) -> set[str]:
    """The blocks an instance may use: those it names, or all when a type is an expression."""
    used: set[str] = set()
    for text in _strings(block):
        if text in blocks:
            used.add(text)
        elif "$" in text:
            return set(blocks)
    return used
