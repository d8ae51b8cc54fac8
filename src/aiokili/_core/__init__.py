"""The core every domain builds on: settings, HTTP and the one retry policy, the
GraphQL client, listing and pagination, bulk, uploads, look-ups, adaptive concurrency,
input checks and selections. It imports no domain."""
