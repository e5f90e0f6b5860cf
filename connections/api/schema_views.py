"""The OpenAPI document's view: drf-spectacular's, throttled like every API view (a request with
a bad token is counted against its address before its 401)."""

from drf_spectacular.views import SpectacularAPIView

from connections.api.throttling import ThrottledBeforeAuthentication


class SchemaView(ThrottledBeforeAuthentication, SpectacularAPIView):
    pass
