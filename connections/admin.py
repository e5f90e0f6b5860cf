"""Django admin for platform admins: teams, memberships, cloud accounts and their credentials.

State fields are read-only here: states change only through the verbs (connections/actions.py).
"""

from celery import current_app
from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join

from connections.api import tokens
from connections.models import (
    AccessRequest,
    ApiToken,
    CloudAccount,
    Event,
    Membership,
    PublishedService,
    RequestZone,
    ServiceBackend,
    ServiceZone,
    Team,
    Vpc,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


class CloudAccountForm(forms.ModelForm):
    """The secret is write-only: it is never rendered back, and a blank field keeps the old one."""

    new_access_key_secret = forms.CharField(
        label="Access key secret",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave blank to keep the stored secret.",
    )

    class Meta:
        model = CloudAccount
        fields = [
            "name",
            "uid",
            "region",
            "credential_source",
            "access_key_id",
            "role_arn",
            "assume_from",
        ]

    def save(self, commit=True):
        if self.cleaned_data.get("new_access_key_secret"):
            self.instance.access_key_secret = self.cleaned_data["new_access_key_secret"]
        return super().save(commit=commit)


@admin.register(CloudAccount)
class CloudAccountAdmin(admin.ModelAdmin):
    form = CloudAccountForm
    list_display = [
        "name", "uid", "region", "credential_source", "inventory_synced_at", "access_checked_at"
    ]  # fmt: skip
    readonly_fields = ["access_checks"]
    actions = ["check_access"]

    @admin.display(description="Access checks (manage.py check_cloud)")
    def access_checks(self, account: CloudAccount) -> str:
        """The last run of the checks: one line per permission or prerequisite."""
        if not account.access_checked_at:
            return "Not checked yet: select the account in the list and run “Check cloud access”."
        rows = format_html_join(
            "", "<li><strong>{}</strong> {}{}</li>",
            (
                (line["status"], line["what"], f": {line['detail']}" if line["detail"] else "")
                for line in account.access_check
            ),
        )  # fmt: skip
        return format_html("<p>Checked {}</p><ul>{}</ul>", account.access_checked_at, rows)

    @admin.action(description="Check cloud access (credentials, activation, zones, permissions)")
    def check_access(self, request, queryset):
        for account in queryset:
            current_app.send_task("connections.check_cloud_account", args=(account.pk,))
        self.message_user(
            request,
            f"Checking {queryset.count()} account(s) on a worker: reload the account's page to "
            "see the results.",
        )


@admin.register(Vpc)
class VpcAdmin(admin.ModelAdmin):
    """Where platform admins give each VPC to the team that uses it (and, with it, its vSwitches,
    security groups and instances). The rest of a VPC is the inventory sync's to write."""

    list_display = ["vpc_id", "name", "cidr", "account", "team", "team_assigned_by", "present"]
    list_editable = ["team"]
    list_filter = [("team", admin.EmptyFieldListFilter), "team", "account", "present"]
    list_select_related = ["account", "team"]
    search_fields = ["vpc_id", "name", "team__name", "team__slug"]
    fields = ["team", "team_assigned_by", "vpc_id", "name", "cidr", "account", "present"]
    readonly_fields = ["team_assigned_by", "vpc_id", "name", "cidr", "account", "present"]

    def save_model(self, request, obj, form, change):
        if "team" in form.changed_data:
            # An admin's choice: a cloud tag no longer moves this VPC (connections/inventory.py).
            obj.team_assigned_by = "admin" if obj.team_id else ""
        super().save_model(request, obj, form, change)

    def has_add_permission(self, request):
        return False  # VPCs come from the cloud, through the inventory sync


class ServiceZoneInline(admin.TabularInline):
    model = ServiceZone
    extra = 0
    readonly_fields = ["zone_id", "vswitch"]


class ServiceBackendInline(admin.TabularInline):
    model = ServiceBackend
    extra = 0
    readonly_fields = ["instance", "port", "weight"]


@admin.register(PublishedService)
class PublishedServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "owner_team", "state", "endpoint_service_id", "created_at"]
    list_filter = ["state", "owner_team"]
    search_fields = ["name", "endpoint_service_id"]
    readonly_fields = [
        "state",
        "progress",
        "task_token",
        "failed_phase",
        "last_error_code",
        "last_error_message",
        "nlb_id",
        "server_group_id",
        "listener_id",
        "endpoint_service_id",
        "endpoint_service_name",
    ]
    inlines = [ServiceZoneInline, ServiceBackendInline]


class RequestZoneInline(admin.TabularInline):
    model = RequestZone
    extra = 0
    readonly_fields = ["zone_id", "vswitch", "status", "eni_id", "eni_ip", "zone_domain"]


@admin.register(AccessRequest)
class AccessRequestAdmin(admin.ModelAdmin):
    list_display = ["pk", "service", "consumer_team", "vpc", "state", "health", "created_at"]
    list_filter = ["state", "health", "service"]
    search_fields = ["endpoint_id", "endpoint_domain"]
    readonly_fields = [
        "state",
        "health",
        "progress",
        "task_token",
        "failed_phase",
        "last_error_code",
        "last_error_message",
        "endpoint_id",
        "endpoint_domain",
        "endpoint_deleted_at",
        "connected_at",
        "closed_at",
    ]
    inlines = [RequestZoneInline]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "actor",
        "verb",
        "service",
        "access_request",
        "from_state",
        "to_state",
    ]
    list_filter = ["verb"]

    # Append-only history: nobody edits or deletes it from here.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Who holds which token, and a way to revoke them (say, when someone leaves). Tokens are
    issued through the API only: the admin never sees a key, only its first characters."""

    list_display = [
        "prefix",
        "name",
        "user",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "name", "prefix"]
    readonly_fields = list_display  # nothing of a token is edited: it is revoked, or left alone
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        tokens.revoke_tokens(queryset)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, not deleted: the record of its use stays
