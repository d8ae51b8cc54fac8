"""Official SDK: a wrong API key makes ``Kili()`` raise ``AuthenticationFailed``."""

from __future__ import annotations

import os

from _common import emit, kili
from kili.exceptions import AuthenticationFailed

try:
    kili(api_key="wrong-key", api_endpoint=os.environ["KILI_API_ENDPOINT"])
except AuthenticationFailed as exc:
    emit({"raised": type(exc).__name__, "message": str(exc)})
else:
    emit({"raised": None})
