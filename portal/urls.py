"""Site URLs: sign-in, health, admin, the REST API with its schema and docs, and the pages."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from connections.api.schema_views import SchemaView
from portal.health import healthz
from portal.signin import AdminSignInForm, SignInView

# The admin's sign-in spends the same failed sign-in budget as the site's and the API's.
admin.site.login_form = AdminSignInForm

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("connections.api.urls")),
    path("", include("connections.pages.urls")),
]

# Under /api/ the errors Django itself answers are problem documents too; elsewhere, its pages.
handler400 = "portal.errors.bad_request"
handler404 = "portal.errors.page_not_found"
handler500 = "portal.errors.server_error"
