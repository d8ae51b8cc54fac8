import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the app runs on asyncio
