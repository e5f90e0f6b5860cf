from django.apps import AppConfig
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import pre_save


class ConnectionsConfig(AppConfig):
    name = "connections"
    verbose_name = "Connections"

    def ready(self) -> None:
        from celery import current_app

        from connections.api.tokens import revoke_tokens_when_the_password_changes
        from connections.pages import preferences
        from connections.workflows import liveness

        pre_save.connect(
            revoke_tokens_when_the_password_changes,
            sender=get_user_model(),
            dispatch_uid="revoke-tokens-on-password-change",
        )
        user_logged_in.connect(preferences.on_sign_in, dispatch_uid="preferences-on-sign-in")
        liveness.wire(current_app)
