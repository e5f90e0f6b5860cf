"""Cursor pagination: stable pages while requests and events keep arriving."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.pagination import Cursor, CursorPagination


def invalid_cursor() -> exceptions.ValidationError:
    return exceptions.ValidationError(
        {"cursor": [exceptions.ErrorDetail("The cursor is not valid.", code="invalid_cursor")]}
    )


class PortalCursorPagination(CursorPagination):
    """Pages of `page_size` (default 50, at most 200), in the view's ordering.

    A cursor is opaque to clients; one that was tampered with is a 400, not DRF's 404 (the list
    exists) and not a 500 (a position the database cannot compare with the ordering field).
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-created_at"

    def get_page_size(self, request) -> int:
        # Strict: a page size the schema does not allow is refused, not silently replaced.
        raw = request.query_params.get(self.page_size_query_param)
        if not raw:  # absent, or left blank as a form leaves it
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        exceptions.ErrorDetail(
                            f"Ask for 1 to {self.max_page_size} items per page.",
                            code="invalid_page_size",
                        )
                    ]
                }
            )
        return size

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters

    def decode_cursor(self, request) -> Cursor | None:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise invalid_cursor() from None

    def paginate_queryset(self, queryset, request, view=None) -> list | None:
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            # Only a decoded cursor's position can make the page query itself fail this way.
            if request.query_params.get(self.cursor_query_param) is None:
                raise
            raise invalid_cursor() from None


class HealthHistoryPagination(PortalCursorPagination):
    ordering = "-at"
    page_size = 200
    max_page_size = 1000
