"""Names of a package that load on first use (PEP 562), for a light ``import``.

A package that re-exports names from heavy modules writes::

    __getattr__ = lazy_names(__name__, {"AppProtocol": "protocol"}, globals())

(with the same names imported under ``if TYPE_CHECKING:`` for type checkers). The first
access imports the module and keeps the value in the package's namespace, so later
accesses cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_names(
    package: str, where: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` for the package or module ``package`` (its ``__name__``;
    ``namespace`` is its ``globals()``): name ``N`` is ``where[N]``'s attribute ``N`` (a
    module relative to the package, or to the module's package), imported when first asked
    for."""
    relative_to = namespace.get("__package__") or package

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f".{module}", relative_to), name)
        namespace[name] = value
        return value

    return __getattr__
