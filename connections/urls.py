"""URLs of the connections app; the pages are contracts (docs/design.md, "Pages")."""

from django.urls import path

from connections import views

app_name = "connections"

urlpatterns = [
    path("", views.catalog, name="catalog"),
]
