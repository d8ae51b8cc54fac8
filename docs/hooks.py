"""mkdocs hooks: the migration page's method table, generated from ``AsyncKili`` at build time
(so it cannot drift from the code). tests/test_docs.py imports ``methods_table`` too."""

from __future__ import annotations

import inspect
from typing import Any

PLACEHOLDER = "<!-- aiokili:methods-table -->"

# The methods of the official SDK's modules the seed documents describe (plugins, webhooks,
# labels, assets) and the calls their examples make: each gets a row, present in aiokili or not.
SEED_METHODS = (
    "labels", "count_labels", "predictions", "inferences", "append_labels",
    "create_predictions", "create_honeypot", "append_to_labels", "delete_labels",
    "update_properties_in_label", "export_labels", "export_labels_as_df",
    "label_created_or_updated",
    "assets", "count_assets", "append_many_to_dataset", "update_properties_in_assets",
    "change_asset_external_ids", "delete_many_from_dataset", "add_to_review",
    "send_back_to_queue",
    "create_issues", "append_to_issues",
    "upload_plugin", "update_plugin", "get_plugin_status", "get_plugin_logs", "list_plugins",
    "activate_plugin_on_project", "deactivate_plugin_on_project", "delete_plugin",
    "create_webhook", "update_webhook",
)  # fmt: skip


def _call(name: str, function: Any) -> str:
    """``kili.name(required, ...)`` from the signature."""
    params = list(inspect.signature(function).parameters.values())[1:]  # no self
    shown = [
        p.name
        for p in params
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(shown) < len(params):
        shown.append("...")
    return f"kili.{name}({', '.join(shown)})"


def _union(annotation: str) -> list[str]:
    """The top-level members of ``A[x] | B`` (brackets respected)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(annotation):
        depth += char == "["
        depth -= char == "]"
        if depth == 0 and annotation.startswith(" | ", i):
            parts.append(annotation[start:i])
            start = i + 3
    return [*parts, annotation[start:]]


def _form(name: str, function: Any) -> tuple[str, str]:
    """(how aiokili is called, what it returns) for one public method."""
    returns = inspect.signature(function).return_annotation
    returns = "None" if returns is inspect.Signature.empty else str(returns)
    call = _call(name, function)
    members = _union(returns)
    listings = [m[len("Listing[") : -1] for m in members if m.startswith("Listing[")]
    if listings:
        items = " or ".join(f"`{item}`" for item in listings)
        rest = [m for m in members if not m.startswith("Listing[")]
        rest = [f"an awaitable of `{m[10:-1].split(', ')[-1]}`" if m.startswith("Coroutine[")
                else f"`{m}`" for m in rest]  # fmt: skip
        extra = f"; with other options (see its docs) {' or '.join(rest)}" if rest else ""
        return f"`async for x in {call}` or `await {call}`", f"{items} items{extra}"
    if inspect.isasyncgenfunction(function) or returns.startswith("AsyncIterator["):
        return f"`async for x in {call}`", f"`{returns}`"
    if inspect.iscoroutinefunction(function):
        return f"`await {call}`", f"`{returns}`"
    return f"`{call}`", f"`{returns}`"


def public_methods() -> dict[str, Any]:
    """AsyncKili's public methods by name (properties excluded)."""
    from aiokili import AsyncKili

    return {
        name: member
        for name, member in inspect.getmembers(AsyncKili)
        if not name.startswith("_") and inspect.isfunction(member)
    }


def methods_table() -> str:
    """The markdown table: the seed's methods first, then every other public method."""
    methods = public_methods()
    rows = [
        "| Method | Seed | aiokili (async) | Returns |",
        "| --- | --- | --- | --- |",
    ]
    others = sorted(set(methods) - set(SEED_METHODS))
    for name in (*SEED_METHODS, *others):
        seed = "yes" if name in SEED_METHODS else ""
        if name in methods:
            form, returns = _form(name, methods[name])
        else:
            form, returns = "not in aiokili yet", ""
        # A `|` inside backticks is code, not a column break, for the tables extension.
        rows.append(f"| `{name}` | {seed} | {form} | {returns} |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """mkdocs hook: fill the placeholder of the migration page."""
    if PLACEHOLDER in markdown:
        return markdown.replace(PLACEHOLDER, methods_table())
    return markdown
