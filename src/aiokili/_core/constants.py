"""Defaults and limits, in one place. Times are in seconds."""

from __future__ import annotations

VERSION = "0.1.0"
"""aiokili's version: pyproject.toml's, written here so that no start-up reads the installed
metadata (``importlib.metadata`` costs ~35 ms); ``tests/test_packaging.py`` keeps them equal."""

DEFAULT_ENDPOINT = "https://cloud.kili-technology.com/api/label/v2/graphql"
API_KEY_ENV = "KILI_API_KEY"
ENDPOINT_ENV = "KILI_API_ENDPOINT"

DEFAULT_TIMEOUT = 120.0
"""Deadline of one request attempt, from sending to the last byte of the answer."""
CONNECT_TIMEOUT = 10.0
"""Deadline to open a connection (a request that never connected is safe to resend)."""
COPY_PROJECT_TIMEOUT = 600.0
"""Deadline of ``copyProject`` (a large project takes minutes), unless ``timeout`` is longer."""
DEFAULT_MAX_RETRIES = 4
RETRY_BASE_DELAY = 0.5
RETRY_MAX_DELAY = 8.0
SLOW_REQUEST = 10.0
"""An answer taking this long or longer is logged at INFO (``aiokili.http``)."""
MAX_RETRY_AFTER = 60.0
"""A server's ``Retry-After`` is honoured up to this many seconds."""
LOOPBACK_RETRY_DELAYS = (0.1, 0.2, 0.4)
"""Waits before each resend of a request refused by a loopback address (nothing listening
on this machine): a local server that is starting gets 0.7 s, one that is not running is
reported within a second."""
API_PATH = "/api/label/v2/graphql"
"""Path of Kili's GraphQL endpoint, on the cloud and on the local server."""

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
DEFAULT_PREFETCH = 16
"""At most this many page requests asked ahead of a listing's loop."""
MAX_PREFETCH = 24
"""Past this, each extra connection costs the client more (connection-pool scans) than the
pages in flight save (measured: 32 in flight cost ~3x the CPU per label of 16)."""
DEFAULT_CONCURRENCY = 128
"""At most this many requests of a client in flight at once (the ``concurrency`` option);
under it, the adaptive concurrency (``_core.concurrency``) finds how many go."""
MAX_CONCURRENCY = 256
"""The highest ``concurrency`` a client accepts."""
INITIAL_CONCURRENCY = 4
"""Requests a client allows in flight at first; more while answers do not queue."""
UPLOAD_CHUNK_BYTES = 256 * 1024

ASYNC_IMPORT_DEADLINE = 3600.0
"""How long an import waits for one asynchronous batch's notification to say it is done."""

ASSETS_CHUNK = 100
"""Assets per ``appendManyAssets`` request (Kili's own batch size)."""
LABELS_CHUNK = 100
"""Labels per ``appendManyLabels`` request."""
SIGNED_URLS_CHUNK = 30
"""Paths per ``createUploadBucketSignedUrls`` request (Kili's limit)."""
EXTERNAL_IDS_CHUNK = 1000
"""External ids per ``filterExistingAssets`` / ``externalIdStrictlyIn`` request."""
LOOKUP_CONCURRENCY = 8
"""Look-up queries (read-only) in flight at once."""
# Reconciling after an unknown outcome: writes dated up to this many seconds before the
# call began (server clock ahead of ours) still count as the call's own.
CLOCK_SKEW = 60.0
