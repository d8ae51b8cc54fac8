"""The plugin runtime: builds uploaded plugins, runs their handlers in contained
processes and dispatches events to them and to webhooks, off the request path."""
