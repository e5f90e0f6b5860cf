"""`Authorization: Token <key>` authentication, with a distinct code for each way a token fails,
and the browser session's, whose CSRF refusal has a code of its own."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from connections.api import tokens
from connections.models import ApiToken

KEYWORD = "Token"


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Finds the token by the hash of its key; expired, revoked and unknown keys are refused."""

    def authenticate(self, request) -> tuple[object, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None  # no token: another authenticator, or anonymous
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                f"Send the header as '{KEYWORD} <key>', with no spaces in the key.",
                code="invalid_token",
            )
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                "The token is not valid.", code="invalid_token"
            ) from None
        return self.authenticate_key(key)

    def authenticate_key(self, key: str) -> tuple[object, ApiToken]:
        token = tokens.find_token(key)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token is not valid.", code="invalid_token")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                "The token has been revoked.", code="token_revoked"
            )
        if tokens.is_expired(token):
            raise exceptions.AuthenticationFailed(
                "The token has expired: ask for a new one.", code="token_expired"
            )
        tokens.note_use(token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Present, so DRF answers 401 (not 403) when credentials are missing or wrong.
        return f'{KEYWORD} realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The signed-in browser session, for the browsable API. Its unsafe requests must carry the
    CSRF token; a refusal is `csrf_failed`, not the `permission_denied` of the policies."""

    def enforce_csrf(self, request) -> None:
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as refusal:
            # A code of its own, on DRF's own exception: this class is one of DRF's settings, loaded
            # while DRF loads them, when the API's modules (problem_types.Problem) are not to be.
            raise exceptions.PermissionDenied(str(refusal.detail), code="csrf_failed") from None


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The security scheme of the schema, so Swagger UI offers an 'Authorize' box for tokens."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'A token from POST /api/v1/auth/token/, sent as "Token <key>".',
        }
