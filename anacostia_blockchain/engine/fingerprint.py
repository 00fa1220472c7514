"""Code fingerprints: which code a node ran, recorded with every node result for lineage.

The fingerprint is the sha256 over every class in the node's MRO (the engine's own bases included, so a library
upgrade shows too), each contributing its qualified name and its source. Editing the node's class, or a base class
it inherits from, changes the fingerprint; editing unrelated code in the same module does not. When a class's
source cannot be read (defined in a REPL, loaded from a module that is not in ``sys.modules``, frozen), its
methods' compiled code (bytecode, constants, names; recursively for nested functions) stands in for it, so the
fingerprint still changes whenever the behaviour does.
"""

from __future__ import annotations

import hashlib
import inspect
import types
from functools import cache

_SKIPPED_MODULES = ("builtins", "threading", "abc")


def _code_bytes(code: types.CodeType) -> bytes:
    parts = [code.co_code, repr(code.co_names).encode(), repr(code.co_varnames).encode()]
    for const in code.co_consts:
        parts.append(_code_bytes(const) if isinstance(const, types.CodeType) else repr(const).encode())
    return b"\x00".join(parts)


def _class_bytes(klass: type) -> bytes:
    try:
        return inspect.getsource(klass).encode()
    except (OSError, TypeError):
        return _compiled_bytes(klass)


def _compiled_bytes(klass: type) -> bytes:
    parts = []
    for attr_name, value in sorted(vars(klass).items()):
        function = getattr(value, "__func__", value)
        code = getattr(function, "__code__", None)
        if isinstance(code, types.CodeType):
            parts.append(attr_name.encode() + b"=" + _code_bytes(code))
    return b"\x01".join(parts)


@cache
def code_fingerprint(cls: type) -> str:
    """``sha256:<hex>`` over the sources of ``cls`` and its base classes (cached per class)."""
    digest = hashlib.sha256()
    for klass in cls.__mro__:
        if klass.__module__ in _SKIPPED_MODULES:
            continue
        digest.update(f"{klass.__module__}.{klass.__qualname__}\n".encode())
        digest.update(_class_bytes(klass))
    return "sha256:" + digest.hexdigest()
