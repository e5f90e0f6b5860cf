"""The Content-Security-Policy of every answer (settings.CONTENT_SECURITY_POLICY).

The portal's own pages run no inline script and use no inline style. The admin, the browsable API
and Swagger UI are other people's pages that set inline styles: under /admin/ and /api/ the
policy also allows those. Scripts stay 'self' everywhere.
"""

from csp.middleware import CSPMiddleware, PolicyParts

THIRD_PARTY_PAGES = ("/admin/", "/api/")


class PortalCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path_info.startswith(THIRD_PARTY_PAGES):
            parts.update = {**(parts.update or {}), "style-src": ["'unsafe-inline'"]}
        return parts
