"""``aiokili webhooks create|update``: a URL Kili POSTs label events to (managed afterwards
like a plugin of that name: ``aiokili plugins activate|deactivate|delete|list``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from ._common import ApiKey, Endpoint, command_group, run, say

NAMES = {
    "webhook_url": "URL",
    "new_webhook_url": "URL",
    "plugin_name": "--name",
    "new_header": "--header",
    "header": "--header",
    "handler_types": "--handler-type",
    "event_matcher": "--event-matcher",
}

Url = Annotated[str, typer.Argument(show_default=False, help="The http(s) URL to POST to.")]
Name = Annotated[
    str, typer.Option("--name", "-n", show_default=False, help="The webhook's (plugin) name.")
]
Header = Annotated[
    str | None,
    typer.Option(
        "--header",
        show_default=False,
        help="Sent as the Authorization header of each POST (never printed).",
    ),
]
HandlerTypes = Annotated[
    list[str] | None,
    typer.Option(
        "--handler-type",
        show_default=False,
        help="onSubmit, onReview, onCustomInterfaceClick or onSendBackToQueue (repeatable; "
        "default: onSubmit and onReview).",
    ),
]
EventMatchers = Annotated[
    list[str] | None,
    typer.Option(
        "--event-matcher",
        show_default=False,
        help="Event subject or pattern (repeatable), instead of --handler-type.",
    ),
]


app = command_group("Register webhooks (then activate them like plugins).")


@app.command()
def create(
    ctx: typer.Context,
    url: Url,
    name: Name,
    header: Header = None,
    handler_type: HandlerTypes = None,
    event_matcher: EventMatchers = None,
    api_key: ApiKey = None,
    endpoint: Endpoint = None,
) -> None:
    """Register a webhook; `aiokili plugins activate NAME --project P` turns it on."""
    run(
        ctx,
        lambda kili: kili.create_webhook(
            url, name, header, True, _types(handler_type), event_matcher or None
        ),
        api_key,
        endpoint,
        None,
        NAMES,
    )
    say(
        ctx,
        f'Webhook "{escape(name)}" created; activate it with `aiokili plugins activate '
        f"{escape(name)} --project PROJECT_ID`.",
    )


@app.command()
def update(
    ctx: typer.Context,
    url: Url,
    name: Name,
    header: Header = None,
    handler_type: HandlerTypes = None,
    event_matcher: EventMatchers = None,
    api_key: ApiKey = None,
    endpoint: Endpoint = None,
) -> None:
    """Change a webhook's URL, header and events."""
    run(
        ctx,
        lambda kili: kili.update_webhook(
            url, name, header, True, _types(handler_type), event_matcher or None
        ),
        api_key,
        endpoint,
        None,
        NAMES,
    )
    say(ctx, f'Webhook "{escape(name)}" updated.')


def _types(values: list[str] | None) -> Any:
    """The --handler-type values, checked by the SDK (its message names the bad one)."""
    return values or None
