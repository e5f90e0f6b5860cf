"""The page tests' world: the API's test world (tests/connections/api/support.py), with its
settings; nothing here reaches a cloud or a broker."""

import pytest

from tests.connections.api.support import api_test_settings, build_api_world


@pytest.fixture(autouse=True)
def _settings(settings):
    api_test_settings(settings)


@pytest.fixture
def world():
    return build_api_world()
