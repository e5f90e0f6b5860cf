"""Routes of the REST API under /api/: v1 resources, and a problem for every other /api/ URL."""

from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from connections.api import auth_views, errors, problem_views, views
from connections.api.throttling import ThrottledBeforeAuthentication

app_name = "api"


class ApiRootView(ThrottledBeforeAuthentication, DefaultRouter.APIRootView):
    """The index of /api/v1/, throttled like every other view before a bad token's 401."""


class Router(DefaultRouter):
    # No `.json` suffix routes: one URL per resource, and the schema lists each once.
    include_format_suffixes = False
    APIRootView = ApiRootView


router = Router()
router.register("services", views.ServiceViewSet, basename="service")
router.register("access-requests", views.AccessRequestViewSet, basename="accessrequest")
router.register("events", views.EventViewSet, basename="event")
router.register("findings", views.FindingViewSet, basename="finding")
router.register("vpcs", views.VpcViewSet, basename="vpc")
router.register("auth/tokens", auth_views.ApiTokenViewSet, basename="token")
router.register("problems", problem_views.ProblemTypeViewSet, basename="problem")

urlpatterns = [
    path("v1/auth/token/", auth_views.TokenView.as_view(), name="auth-token"),
    path("v1/", include(router.urls)),
    re_path(r"", errors.api_not_found),
]
