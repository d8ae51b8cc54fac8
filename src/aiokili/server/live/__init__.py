"""Live updates: the event outboxes, the label feed behind subscriptions, and the
websocket protocols that carry them."""
