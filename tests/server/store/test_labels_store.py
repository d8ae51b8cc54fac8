"""Label writes are all or nothing."""

from __future__ import annotations

import pytest
from support import answer, import_images, new_project

import aiokili
from aiokili.server import LocalServer

pytestmark = [pytest.mark.anyio, pytest.mark.kili_fresh_server]


async def test_a_honeypot_that_cannot_be_recorded_leaves_no_label(
    kili: aiokili.AsyncKili, kili_fresh_server: LocalServer
) -> None:
    project_id = await new_project(kili)
    [asset_id] = await import_images(kili, project_id, 1)
    db = kili_fresh_server.store.db  # type: ignore[attr-defined]
    with db.write() as c:  # marking the asset as a honeypot fails
        if db.dialect == "sqlite":
            c.execute(
                "CREATE TRIGGER refuse BEFORE UPDATE OF is_honeypot ON assets "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        else:
            c.execute(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'refused'; END $$"
            )
            c.execute(
                "CREATE TRIGGER refuse BEFORE UPDATE OF is_honeypot ON assets "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
    with pytest.raises(aiokili.errors.APIError):
        await kili.create_honeypot(answer("A"), asset_id=asset_id)
    assert await kili.count_labels(project_id) == 0  # before: the REVIEW label stayed
    [asset] = await kili.assets(project_id, fields=["isHoneypot"])
    assert not asset.is_honeypot
