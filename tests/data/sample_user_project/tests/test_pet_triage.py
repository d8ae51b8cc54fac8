"""The app against aiokili's local server, through the plugin's fixtures: no mocks."""

import pet_triage
import pytest

pytestmark = pytest.mark.anyio  # pytest-asyncio: pytest.mark.asyncio in strict mode, none in auto


async def test_prelabel_labels_only_unlabelled_assets(kili, kili_project):
    project_id = await kili_project(input_type="IMAGE")  # the plugin's default interface
    await kili.append_many_to_dataset(
        project_id,
        content_array=["https://example.com/a.jpg", "https://example.com/b.jpg"],
        external_id_array=["cat-1.jpg", "dog-1.jpg"],
    )
    assert await pet_triage.prelabel(kili, project_id) == 2
    assert await pet_triage.prelabel(kili, project_id) == 0  # nothing left to do
    assert await pet_triage.category_counts(kili, project_id) == {"CAT": 1, "DOG": 1}


async def test_main_reads_the_environment(kili, kili_project, kili_env):
    interface = {
        "jobs": {
            "CLASSIFICATION_JOB": {
                "mlTask": "CLASSIFICATION",
                "content": {
                    "categories": {"CAT": {"name": "Cat"}, "DOG": {"name": "Dog"}},
                    "input": "radio",
                },
                "required": 1,
                "isChild": False,
            }
        }
    }
    project_id = await kili_project(json_interface=interface, title="pets")
    await kili.append_many_to_dataset(
        project_id,
        content_array=[f"https://example.com/{i}.jpg" for i in range(3)],
        external_id_array=["Cat-a", "cat-b", "dog-c"],
    )
    assert await pet_triage.main(project_id) == {"CAT": 2, "DOG": 1}


@pytest.mark.kili_fresh_server
async def test_a_marked_test_gets_an_empty_server(kili, kili_project):
    assert await kili.count_projects() == 0
    await kili_project()
    assert await kili.count_projects() == 1


async def test_the_app_sees_a_bad_project_id(kili):
    from aiokili import KiliError

    with pytest.raises(KiliError):
        await pet_triage.prelabel(kili, "no-such-project")


async def test_the_apps_own_client_in_a_fixture(app_kili, kili_project):
    project_id = await kili_project()
    await app_kili.append_many_to_dataset(
        project_id,
        content_array=[f"https://example.com/{i}.jpg" for i in range(250)],
        external_id_array=[f"cat-{i}" for i in range(250)],
    )
    assert await pet_triage.prelabel(app_kili.with_options(page_size=100), project_id) == 250


async def test_the_app_works_for_a_labeler_and_not_for_another_organization(
    kili, kili_project, kili_user, kili_other_organization
):
    from aiokili import NotFoundError, PermissionDeniedError

    project_id = await kili_project()
    await kili.append_many_to_dataset(
        project_id, content_array=["https://example.com/a.jpg"], external_id_array=["cat-1.jpg"]
    )
    labeler = await kili_user(role="LABELER", project_id=project_id)
    assert await pet_triage.prelabel(labeler, project_id) == 1  # a labeler labels
    with pytest.raises(PermissionDeniedError, match="ADMIN"):
        await labeler.delete_project(project_id)  # but cannot delete the project
    with pytest.raises(NotFoundError):
        await pet_triage.prelabel(kili_other_organization, project_id)
