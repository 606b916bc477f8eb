"""Collects an imported network's layers and infers each output shape as it goes.

Importers need shapes while converting (Darknet's route groups slice channels, a Caffe
InnerProduct flattens only an input that is not flat yet, PReLU counts channels), and
a problem found then should name the source file's line and layer, not the converted
spec's. So every layer is built and inferred with cnncalc's own layer classes the
moment it is added: no second copy of the shape rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import FieldError, Mark, ShapeError, SpecError
from ..layers import Shape, build
from ..layers.base import product
from ..limits import LAYER_LIMIT, LIMIT_HINT, over_limit


@dataclass(frozen=True)
class Where:
    """A layer's place in the source file, for errors: file:line:col and (name, source type)."""

    mark: Mark | None
    layer: tuple[str, str] | None

    def fail(self, problem: str, hint: str | None = None) -> SpecError:
        return SpecError(problem, mark=self.mark, layer=self.layer, hint=hint)


class SpecBuilder:
    """The spec dict of `cnncalc.importers`, built layer by layer with shapes checked."""

    def __init__(self) -> None:
        self.inputs: dict[str, dict[str, Any]] = {}
        self.layers: list[dict[str, Any]] = []
        self.shapes: dict[str, Shape] = {}
        self.consumed: set[str] = set()
        # base name -> the lowest suffix not yet known to be taken. Names are never given back, so
        # every `base_k` below it stays taken: 20,000 layers called "relu" cost 20,000 probes, not 2*10**8.
        self._next_suffix: dict[str, int] = {}
        self._inferred: dict[tuple[str, str, tuple[Shape, ...]], Shape] = {}  # (kind, fields, shapes) -> output

    def unique(self, wanted: str) -> str:
        """`wanted` made a usable, unused name: no `$` (it starts an expression), `_2`, `_3`... if taken."""
        base = wanted.replace("$", "_").strip() or "layer"
        if not self._taken(base):
            return base
        number = self._next_suffix.get(base, 2)
        while self._taken(f"{base}_{number}"):
            number += 1
        self._next_suffix[base] = number  # probed again next time: the caller may not take it
        return f"{base}_{number}"

    def _taken(self, name: str) -> bool:
        return name in self.shapes or name == "input"

    def add_input(self, name: str, shape: Shape, batch: int) -> str:
        name = name if name == "input" and name not in self.shapes else self.unique(name)
        self.inputs[name] = {"shape": list(shape), "batch": batch}
        self.shapes[name] = tuple(shape)
        return name

    def add(self, kind: str, name: str, sources: list[str], fields: dict[str, Any], where: Where,
            comment: str | None = None) -> str:
        """Append a layer, infer its output shape; returns its (unique) name.

        A field cnncalc rejects or a shape it cannot take is an error at `where`, the
        source layer, saying which cnncalc layer it would have become.
        """
        if len(self.layers) >= LAYER_LIMIT:
            raise where.fail(f"the network has more than {LAYER_LIMIT:,} layers", "the limit of a spec; "
                             "a generated or corrupt file?")
        name = self.unique(name)
        shapes = tuple(self.shapes[source] for source in sources)
        key = (kind, repr(fields), shapes)  # a layer seen before on the same shapes: its output is known
        output = self._inferred.get(key)
        if output is None:
            output = self._infer(kind, fields, shapes, where)
            self._inferred[key] = output
        entry: dict[str, Any] = {"#": comment} if comment else {}
        entry.update({"type": kind, "name": name})
        if sources:  # a parameter reads nothing
            entry["from"] = sources[0] if len(sources) == 1 else list(sources)
        entry.update(fields)
        self.layers.append(entry)
        self.shapes[name] = output
        self.consumed.update(sources)
        return name

    @staticmethod
    def _infer(kind: str, fields: dict[str, Any], shapes: tuple[Shape, ...], where: Where) -> Shape:
        """The output shape of a cnncalc `kind` layer on `shapes`, or an error at `where`."""
        try:
            layer = build(kind, dict(fields))
            if layer.arity == "one" and len(shapes) != 1:
                raise ShapeError(f"{kind} takes one input; got {len(shapes)}")
            cost = layer.infer(shapes)
        except FieldError as error:
            raise where.fail(f"as cnncalc {kind}: {error.problem}", error.hint) from None
        except ShapeError as error:
            described = " and ".join("x".join(map(str, shape)) for shape in shapes)
            raise where.fail(f"as cnncalc {kind}: {error.problem} (input {described})", error.hint) from None
        if min(cost.shape, default=1) < 1 or product(cost.shape) < 1:
            raise where.fail(f"as cnncalc {kind}: output size {list(cost.shape)} is below 1")
        too_big = over_limit(cost)
        if too_big is not None:
            raise where.fail(f"as cnncalc {kind}: {too_big}", LIMIT_HINT)
        return cost.shape

    def shape(self, name: str) -> Shape:
        return self.shapes[name]

    def unconsumed(self) -> list[str]:
        """Layers no later layer reads: the network's outputs, in order."""
        return [layer["name"] for layer in self.layers if layer["name"] not in self.consumed]

    def spec(self, name: str, outputs: list[str] | None = None, description: str | None = None,
             source: str | None = None) -> dict[str, Any]:
        if not self.layers:
            where = f"{source}: " if source else ""
            raise SpecError(f"{where}the network '{name}' has no layers cnncalc can count",
                            hint="cnncalc counts what is computed from the inputs")
        result: dict[str, Any] = {"name": name}
        if description:
            result["description"] = description
        result["inputs"] = self.inputs
        result["layers"] = self.layers
        if outputs:
            result["outputs"] = outputs
        return result

