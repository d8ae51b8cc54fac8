import pytest

from aiokili import AsyncKili


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the app runs on asyncio


@pytest.fixture  # with pytest-asyncio in strict mode: @pytest_asyncio.fixture
async def app_kili(kili_env):
    """The app's own client, built from the environment as the app builds it: entered in
    the fixture's setup, left in its teardown."""
    async with AsyncKili() as kili:
        yield kili
