"""The API's JSON is written by orjson (connections/api/renderers.py): the bytes must be those
DRF's own JSONRenderer writes, for every kind of answer, and where the library would differ
from DRF the portal's renderer keeps DRF's behaviour."""

import pytest
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer

from connections.api.renderers import JSONRenderer
from connections.choices import RequestState
from tests.connections.api.support import api_test_settings, build_api_world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings):
    api_test_settings(settings)


def test_every_kind_of_answer_is_written_as_drfs_renderer_writes_it():
    api = build_api_world()
    request = api.make_request(state=RequestState.CONNECTED, endpoint_id="ep-1")
    answers = {
        "provider": [
            "/api/v1/",
            "/api/v1/services/",
            f"/api/v1/services/{api.service.pk}/",
            "/api/v1/access-requests/",
            f"/api/v1/access-requests/{request.pk}/",
            f"/api/v1/access-requests/{request.pk}/health-history/",
            "/api/v1/events/",
            "/api/v1/findings/",
            "/api/v1/vpcs/",
            "/api/v1/auth/tokens/",
            "/api/v1/problems/",
            "/api/v1/services/?state=nonsense",  # a 400 with its errors
            "/api/v1/services/999999/",  # a 404
        ],
        "consumer": ["/api/v1/services/", f"/api/v1/access-requests/{request.pk}/"],
        None: ["/api/v1/services/"],  # a 401
    }
    checked = 0
    for who, paths in answers.items():
        client = api.client(who)
        for path in paths:
            response = client.get(path)
            assert isinstance(response.accepted_renderer, JSONRenderer), path
            assert response.content == DrfJSONRenderer().render(response.data), path
            checked += 1
    assert checked == 16


def test_integer_keys_are_written_as_strings_as_drf_writes_them():
    data = {"zones": {0: ["Unknown zone."]}}

    assert JSONRenderer().render(data) == DrfJSONRenderer().render(data)


def test_a_value_json_cannot_hold_is_an_error_not_a_silent_null():
    # orjson raises its own TypeError (JSONEncodeError) from the renderer's.
    with pytest.raises(TypeError, match="not JSON serializable"):
        JSONRenderer().render({"value": object()})
