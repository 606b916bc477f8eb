"""The graph walk: a spec's entries, blocks, repeats and branches, in execution order,
each primitive layer inferred from the shapes reaching it.

Expansion and shape inference happen in one pass because fields may depend on the
shapes (`in_channels`, `in_shape`). Every problem becomes a SpecError naming the
file, line, column and layer; the walk yields frozen LayerRecords.

- walker.py: the traversal (chains, repeats, inline chains, blocks and their scopes);
- naming.py: an entry's type and name, and the tensors `from:` names;
- expansion.py: repeat counts and the layer limit, checked before the walk gets there;
- inference.py: primitive layers built, inferred once per distinct fields and shapes, recorded;
- values.py: field values with `$name` and `${...}` filled in, and where errors point.
"""

from __future__ import annotations

from .walker import Walker

__all__ = ["Walker"]
