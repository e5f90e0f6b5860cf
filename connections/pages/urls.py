"""The pages' URLs: a contract (docs/design.md, "Pages"); documentation, bookmarks and the browser
tests use them."""

from django.urls import path, re_path

from connections.pages import approvals, catalog, profile, publish, requests

app_name = "connections"

urlpatterns = [
    path("", catalog.catalog, name="catalog"),
    path("services/publish/", publish.PublishWizard.as_view(), name="service_publish"),
    path("services/<int:pk>/", catalog.service_detail, name="service_detail"),
    path("services/<int:pk>/settings/", catalog.service_settings, name="service_settings"),
    path("services/<int:pk>/retire/", catalog.service_retire, name="service_retire"),
    path("services/<int:pk>/retry/", catalog.service_retry, name="service_retry"),
    path(
        "services/<int:pk>/findings/<int:finding_pk>/clean-up/",
        catalog.finding_clean_up,
        name="finding_clean_up",
    ),
    path("services/<int:pk>/request/", requests.request_form, name="request_form"),
    path("services/<int:pk>/request/zones/", requests.request_zones, name="request_zones"),
    path("requests/", requests.request_list, name="request_list"),
    path("requests/<int:pk>/", requests.request_detail, name="request_detail"),
    path("requests/<int:pk>/test/", requests.connection_test, name="connection_test"),
    path("requests/<int:pk>/amend/", requests.request_amend, name="request_amend"),
    re_path(
        r"^requests/(?P<pk>[0-9]+)/(?P<action>approve|reject|revoke|retry)/$",
        requests.request_action,
        name="request_action",
    ),
    path("approvals/", approvals.approval_list, name="approval_list"),
    path("approvals/decide/", approvals.decide, name="approval_decide"),
    path("approvals/count/", approvals.awaiting_count, name="awaiting_count"),
    path("profile/", profile.profile, name="profile"),
]
