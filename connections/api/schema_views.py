"""The OpenAPI document's view: drf-spectacular's, throttled like every API view (a request with
a bad token is counted against its address before its 401)."""

from django.utils import translation
from drf_spectacular.views import SpectacularAPIView

from connections.api.throttling import ThrottledBeforeAuthentication


class SchemaView(ThrottledBeforeAuthentication, SpectacularAPIView):
    def dispatch(self, request, *args, **kwargs):
        """In English whatever the browser's language, as the API answers (the choices' labels
        are translated on the pages only); `?lang=` still asks for another, as drf-spectacular
        lets it. Rendered here, while English is active: its labels are lazy."""
        with translation.override("en"):
            response = super().dispatch(request, *args, **kwargs)
            if callable(getattr(response, "render", None)):
                response.render()
        return response
