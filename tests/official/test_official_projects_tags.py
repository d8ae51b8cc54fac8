"""The unmodified official SDK (26.2.4) on tags, project copies, archiving, project versions
and anonymization."""

from __future__ import annotations

from typing import Any

from official_support import official_output, official_python

__all__ = ["official_python"]  # the fixture, imported for pytest

out = official_output("projects_tags.py")


def test_tags_created_attached_renamed_removed(out: Any) -> None:
    green, gold = out["created"], out["created_default"]
    assert green["color"] == "#00ff00" and gold["color"].startswith("#")
    assert out["tag_project"] == [{"id": green["id"]}, {"id": gold["id"]}]
    project = out["project_id"]
    on_project = {t["id"]: t for t in out["tags_of_project"]}
    assert set(on_project) == {green["id"], gold["id"]}
    assert set(out["tags_of_project"][0]) == {"id", "organizationId", "label", "checkedForProjects"}
    assert all(t["checkedForProjects"] == [project] for t in out["tags_of_org"])
    assert out["update_tag"] == {"id": green["id"]}
    emerald = out["tags_after_rename"][0]
    assert emerald.startswith("emerald-") and out["tags_after_rename"][1] == gold["label"]
    assert out["projects_tags_in"] == [project]
    assert out["untag_project"] == [{"id": gold["id"]}]
    assert out["tags_after_untag"] == [emerald]
    assert out["untag_all"] == [{"id": green["id"]}]
    assert out["delete_tag"] is True and out["delete_tag_id"] is True
    assert out["tags_left"] == []


def test_copies_with_and_without_labels(out: Any) -> None:
    plain, again, with_labels = out["copies"]
    title = plain["title"].removesuffix(" (copy)")
    assert plain["title"] == f"{title} (copy)" and title.startswith("copied ")
    assert again["title"] == f"{title} (copy 1)" and with_labels["title"] == f"{title} (copy 2)"
    for copy in out["copies"]:
        assert copy["description"] == ""
        assert (copy["instructions"], copy["reviewCoverage"]) == ("https://docs.example/y", 40)
        assert copy["jsonInterface"]["jobs"]["JOB"]["mlTask"] == "CLASSIFICATION"
    assert out["count_assets_plain"] == 0
    assert out["labels_copy"] == out["labels_source"] == [["c0", "DEFAULT", "A"],
                                                          ["c1", "DEFAULT", "B"]]  # fmt: skip
    assert out["statuses_copy"] == [["c0", "DONE"], ["c1", "DONE"], ["c2", "TO_DO"]]
    assert "copy_assets" in out["copy_labels_without_assets"]


def test_archive_hides_a_project_from_the_active_list(out: Any) -> None:
    archived = out["archived_id"]
    assert out["archive"] == {"id": archived} and out["unarchive"] == {"id": archived}
    assert out["in_active"] is False and archived in out["in_archived"]
    assert out["in_all"] is True  # archived=None: no filter, as the SDK documents
    assert out["count_active_archived"] == [0, 1]
    assert out["in_active_after"] is True


def test_project_versions(out: Any) -> None:
    version, archived = out["version_id"], out["archived_id"]
    (listed,) = out["versions"]
    assert set(listed) == {"createdAt", "id", "content", "name", "projectId"}
    assert (listed["id"], listed["name"], listed["content"]) == (version, "first", None)
    assert listed["projectId"] == archived
    assert out["versions_generator"] == [version] and out["count_versions"] == 1
    assert out["update_version"]["content"] == "https://example.com/v.zip"
    assert out["update_version"]["id"] == version


def test_anonymization(out: Any) -> None:
    assert out["anonymize"]["id"]
    assert out["authors_anonymized"] == ["Anonymized", "Anonymized"]
    assert "Anonymized" not in out["authors_back"]
