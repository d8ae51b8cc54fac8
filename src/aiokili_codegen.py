"""The ariadne-codegen plugin of aiokili (``plugins`` in codegen.toml); not part of the wheel.

It lives in ``src/`` so that the editable install (``pip install -e '.[dev]'``) puts it on the
path of the ``ariadne-codegen`` command, which does not import from the current directory.

What it changes in the generated package, so user code needs no casts:

* enums derive from ``StrEnum`` (``codegen/str_enum.py``): ``str(Status.LABELED)`` and
  ``f"{Status.LABELED}"`` are ``"LABELED"``;
* a JSON document (``JSONString`` scalar) is a ``dict`` in every result model, never None:
  null or ``""`` on the wire is ``{}`` (``codegen/scalars.py``);
* a ``@mixin`` directive on a fragment definition (``PluginLog``'s, ``codegen/mixins.py``)
  is left out of the documents sent: ariadne-codegen 0.19 strips it from fields only.

And what it changes so that start-up builds no model it does not need
(:class:`InputTypesOnFirstUse`): each input type in a module of its own, imported the
first time it is used.
"""

from __future__ import annotations

import ast
from pathlib import Path

from ariadne_codegen.client_generators.comments import get_comment
from ariadne_codegen.config import get_client_settings
from ariadne_codegen.plugins.base import Plugin
from ariadne_codegen.utils import format_code, str_to_snake_case
from graphql import (
    ExecutableDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLSchema,
    parse,
    print_ast,
)

STR_ENUM_MODULE, STR_ENUM = "str_enum", "StrEnum"
JSON_OBJECT = "JSONObject"


class AiokiliTypes(Plugin):
    """Enums that print as their value; JSON documents that are never None; no ``@mixin``
    in the documents sent."""

    def generate_enum(self, class_def: ast.ClassDef, enum_type: GraphQLEnumType) -> ast.ClassDef:
        class_def.bases = [ast.Name(id=STR_ENUM)]
        return class_def

    def generate_enums_module(self, module: ast.Module) -> ast.Module:
        body: list[ast.stmt] = [
            ast.ImportFrom(module=STR_ENUM_MODULE, names=[ast.alias(name=STR_ENUM)], level=1)
        ]
        body += [
            node
            for node in module.body
            if not (isinstance(node, ast.ImportFrom) and node.module == "enum")
        ]
        module.body = body
        return module

    def generate_result_field(
        self,
        field_implementation: ast.AnnAssign,
        operation_definition: ExecutableDefinitionNode,
        field: FieldNode,
    ) -> ast.AnnAssign:
        annotation = field_implementation.annotation
        if (
            isinstance(annotation, ast.Subscript)
            and isinstance(annotation.value, ast.Name)
            and annotation.value.id == "Optional"
            and isinstance(annotation.slice, ast.Name)
            and annotation.slice.id == JSON_OBJECT
        ):
            field_implementation.annotation = annotation.slice
        return field_implementation

    def generate_operation_str(
        self, operation_str: str, operation_definition: ExecutableDefinitionNode
    ) -> str:
        document = parse(operation_str, no_location=True)
        fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
        if not any(d.name.value == "mixin" for f in fragments for d in f.directives):
            return operation_str
        for fragment in fragments:
            fragment.directives = tuple(d for d in fragment.directives if d.name.value != "mixin")
        return print_ast(document)


INPUTS_PACKAGE = "inputs"
"""Sub-package of the generated package holding one module per input type."""

_LAZY_INPUT_TYPES = '''"""The input types of the operations, each imported the first time it is used.

``input_types.AssetWhere`` (or ``from .input_types import AssetWhere``) imports the module
of ``AssetWhere`` under ``{package}/`` and the types it refers to, and no other: building a
model class takes time, which a program pays only for the types it sends.
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
{imports}

_MODULES = {modules!r}


def __getattr__(name: str) -> object:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {{__name__!r}} has no attribute {{name!r}}")
    value = getattr(importlib.import_module(module, __package__), name)
    globals()[name] = value  # imported once
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = {names!r}
'''


class InputTypesOnFirstUse(Plugin):
    """Writes each input type to a module of its own (``inputs/asset_where.py``, with the
    types it refers to imported) and makes ``input_types`` the module that imports them on
    first use (PEP 562 ``__getattr__``; the ``TYPE_CHECKING`` imports type them).

    Input types that refer to each other in a cycle share one module. The ``inputs``
    folder belongs to this plugin: regenerating rewrites it whole.
    """

    def __init__(self, schema: GraphQLSchema, config_dict: dict[str, object]) -> None:
        super().__init__(schema=schema, config_dict=config_dict)
        self.settings = get_client_settings(config_dict=config_dict)

    def generate_inputs_module(self, module: ast.Module) -> ast.Module:
        imports = [n for n in module.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        classes = [n for n in module.body if isinstance(n, ast.ClassDef)]
        if len(imports) + len(classes) != len(module.body):
            raise ValueError("input types module: expected imports and classes only")
        groups = _module_groups(classes)
        folder = (
            Path(self.settings.target_package_path)
            / self.settings.target_package_name
            / INPUTS_PACKAGE
        )
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.py"):
            stale.unlink()
        self._write(folder / "__init__.py", '"""One module per input type: see input_types."""\n')
        module_of = {c.name: name for name, group in groups.items() for c in group}
        for name, group in groups.items():
            body: list[ast.stmt] = [_one_level_down(i) for i in imports]
            needed: dict[str, list[str]] = {}
            for dep in sorted(set().union(*(_references(c, set(module_of)) for c in group))):
                if module_of[dep] != name:
                    needed.setdefault(module_of[dep], []).append(dep)
            body += [
                ast.ImportFrom(module=mod, names=[ast.alias(n) for n in deps], level=1)
                for mod, deps in needed.items()
            ]
            body += group
            self._write(folder / f"{name}.py", ast.unparse(ast.Module(body=body, type_ignores=[])))
        lazy = _LAZY_INPUT_TYPES.format(
            package=INPUTS_PACKAGE,
            imports="\n".join(
                f"    from .{INPUTS_PACKAGE}.{module_of[c.name]} import {c.name}" for c in classes
            ),
            modules={n: f".{INPUTS_PACKAGE}.{module_of[n]}" for n in sorted(module_of)},
            names=sorted(c.name for c in classes),
        )
        return ast.parse(lazy)

    def _write(self, path: Path, code: str) -> None:
        comment = get_comment(self.settings.include_comments, self.settings.schema_path)
        path.write_text(comment + "\n\n" + format_code(code), encoding="utf-8")


def _references(class_def: ast.ClassDef, known: set[str]) -> set[str]:
    """The other ``known`` classes ``class_def`` refers to, by name or forward reference
    (ariadne-codegen writes one as a name in quotes; a string constant is read too)."""
    found = {n.id.strip('"') for n in ast.walk(class_def) if isinstance(n, ast.Name)}
    found |= {
        n.value
        for n in ast.walk(class_def)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }
    return (found & known) - {class_def.name}


def _module_groups(classes: list[ast.ClassDef]) -> dict[str, list[ast.ClassDef]]:
    """Module name -> its classes: one class per module, classes in a reference cycle
    together (named after the first), in the order of the generated module."""
    refs = {c.name: _references(c, {c.name for c in classes}) for c in classes}
    reach: dict[str, set[str]] = {}
    for start in refs:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for ref in refs[todo.pop()] - seen:
                seen.add(ref)
                todo.append(ref)
        reach[start] = seen
    groups: dict[str, list[ast.ClassDef]] = {}
    placed: set[str] = set()
    for c in classes:
        if c.name not in placed:
            group = [
                d
                for d in classes
                if d is c or (d.name in reach[c.name] and c.name in reach[d.name])
            ]
            placed.update(d.name for d in group)
            groups[str_to_snake_case(c.name)] = group
    return groups


def _one_level_down(node: ast.stmt) -> ast.stmt:
    """An import of a module of the generated package, as written one folder below it
    (ariadne-codegen writes the scalars' as ``from .scalars import ...`` with level 0)."""
    if not isinstance(node, ast.ImportFrom):
        return node
    module = node.module or ""
    level = node.level + len(module) - len(module.lstrip("."))
    if not level:
        return node
    return ast.ImportFrom(module=module.lstrip(".") or None, names=node.names, level=level + 1)
