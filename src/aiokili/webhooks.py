"""Webhooks: a URL Kili POSTs to on label events, registered (and listed, activated,
deleted) like a plugin of that name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal
from urllib.parse import urlparse

from ._core.base import Domain
from ._core.inputs import event_matchers
from ._generated import input_types as inputs
from ._generated.enums import PluginHandlerType
from .errors import KiliInputError

HandlerTypeName = Literal["onSubmit", "onReview", "onCustomInterfaceClick", "onSendBackToQueue"]
"""Names of the handler types (``PluginHandlerType``)."""
DEFAULT_HANDLER_TYPES = (PluginHandlerType.onSubmit, PluginHandlerType.onReview)


def _webhook(
    method: str,
    url_name: str,
    url: object,
    plugin_name: object,
    header_name: str,
    header: object,
    handler_types: object,
    event_matcher: object,
) -> inputs.WebhookData:
    if not isinstance(url, str) or urlparse(url).scheme not in ("http", "https"):
        raise KiliInputError(
            f"{method}(): {url_name} must be an http(s) URL, e.g. 'https://example.com/hook', "
            f"got {url!r}."
        )
    if not isinstance(plugin_name, str) or not plugin_name.strip():
        raise KiliInputError(f"{method}(): plugin_name must be a non-empty string.")
    if header is not None and not isinstance(header, str):
        raise KiliInputError(f"{method}(): {header_name} must be a str (or None).")
    matcher = event_matchers(method, event_matcher)
    if matcher is not None:
        if handler_types is not None:
            raise KiliInputError(f"{method}(): give handler_types or event_matcher, not both.")
        return inputs.WebhookData(
            plugin_name=plugin_name, webhook_url=url, header=header, event_matcher=matcher
        )
    if handler_types is None:
        types = list(DEFAULT_HANDLER_TYPES)
    elif isinstance(handler_types, str) or not isinstance(handler_types, Sequence):
        raise KiliInputError(
            f"{method}(): handler_types must be a list, e.g. ['onSubmit'], got "
            f"{type(handler_types).__name__}."
        )
    elif not handler_types:
        raise KiliInputError(f"{method}(): handler_types is empty (default: onSubmit, onReview).")
    else:
        types = []
        for index, value in enumerate(handler_types):
            try:
                types.append(PluginHandlerType(value))
            except ValueError:
                known = ", ".join(t.value for t in PluginHandlerType)
                raise KiliInputError(
                    f"{method}(): handler_types[{index}] is {value!r}; use one of {known}."
                ) from None
    return inputs.WebhookData(
        plugin_name=plugin_name, webhook_url=url, header=header, handler_types=types
    )


class WebhookMethods(Domain):
    """Webhook methods of :class:`~aiokili.AsyncKili`."""

    async def create_webhook(
        self,
        webhook_url: str,
        plugin_name: str,
        header: str | None = None,
        verbose: bool = True,
        handler_types: Sequence[PluginHandlerType | HandlerTypeName] | None = None,
        event_matcher: Sequence[str] | None = None,
    ) -> str | None:
        """Register a webhook: Kili POSTs ``{eventType, logPayload: {runId, projectId},
        payload: {label, asset_id}}`` to ``webhook_url`` on each selected event of the
        projects it is activated on (``activate_plugin_on_project(plugin_name, ...)``).

        Args:
            header: sent as the ``Authorization`` header of each POST.
            verbose: accepted for compatibility.
            handler_types: default ``["onSubmit", "onReview"]``.
            event_matcher: event subjects or patterns (e.g. ``["asset.skipped"]``) instead
                of handler types.
        """
        data = _webhook(
            "create_webhook",
            "webhook_url",
            webhook_url,
            plugin_name,
            "header",
            header,
            handler_types,
            event_matcher,
        )
        return (await self._core.gql.create_webhook(data)).data

    async def update_webhook(
        self,
        new_webhook_url: str,
        plugin_name: str,
        new_header: str | None = None,
        verbose: bool = True,
        handler_types: Sequence[PluginHandlerType | HandlerTypeName] | None = None,
        event_matcher: Sequence[str] | None = None,
    ) -> str | None:
        """Change a webhook's URL, header and events (see :meth:`create_webhook`).

        ``handler_types`` default ``["onSubmit", "onReview"]``."""
        data = _webhook(
            "update_webhook",
            "new_webhook_url",
            new_webhook_url,
            plugin_name,
            "new_header",
            new_header,
            handler_types,
            event_matcher,
        )
        return (await self._core.gql.update_webhook(data)).data
