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
"""

from __future__ import annotations

import ast

from ariadne_codegen.plugins.base import Plugin
from graphql import (
    ExecutableDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
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
