"""The pages' forms: Django forms over the verbs' arguments, whose checks are the verbs' own
(connections/preflight.py), so a form refuses what the API refuses, with the same messages, beside
the field each is about."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from connections import policies, preflight
from connections.choices import ListenerProtocol
from connections.filtersets import row_id
from connections.models import (
    AccessRequest,
    Instance,
    PublishedService,
    SecurityGroup,
    Team,
    Vpc,
    VSwitch,
)
from connections.preflight import BackendChoice, Problems, ZoneChoice, unsupported_zones

# Where each check's field shows on a form ("service" problems are about the whole form).
PROBLEM_FIELDS = {"service": None, "listener_port": "port", "listener_protocol": "protocol"}


class RowChoiceField(forms.ModelChoiceField):
    """A choice of a row, whose posted id is checked to be one before any query: "²" is no
    number, and a number beyond 64 bits overflows the database (a 500, not a form's error)."""

    def to_python(self, value):
        if value not in self.empty_values and row_id(value) is None:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return super().to_python(value)


class RowsChoiceField(forms.ModelMultipleChoiceField):
    """Several rows, each posted id checked as RowChoiceField checks one."""

    def _check_values(self, value):
        for pk in value:
            if row_id(pk) is None:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class VpcChoiceField(RowChoiceField):
    def label_from_instance(self, vpc: Vpc) -> str:
        team = vpc.team.name if vpc.team_id else _("unassigned")
        return f"{vpc.name or vpc.vpc_id} ({vpc.vpc_id}, {vpc.cidr}) · {team}"


class VSwitchChoiceField(RowChoiceField):
    def label_from_instance(self, vswitch: VSwitch) -> str:
        return f"{vswitch.name or vswitch.vswitch_id} ({vswitch.vswitch_id}, {vswitch.cidr})"


class SecurityGroupsField(RowsChoiceField):
    def label_from_instance(self, group: SecurityGroup) -> str:
        return (
            f"{group.name} ({group.security_group_id})" if group.name else group.security_group_id
        )


def team_field(user, *, managed: bool, label) -> RowChoiceField:
    """The teams the person acts for; a person in one team is not asked."""
    teams = Team.objects.filter(policies.teams_q(user, managed=managed)).order_by("name")
    field = RowChoiceField(queryset=teams, label=label, empty_label=None)
    if len(teams) == 1:
        field.widget = forms.HiddenInput()
        field.initial = teams[0].pk
    return field


def vpc_field(user, **kwargs) -> VpcChoiceField:
    vpcs = Vpc.objects.usable_by(user).filter(present=True).select_related("team")
    return VpcChoiceField(queryset=vpcs.order_by("name", "vpc_id"), **kwargs)


class ChecksForm(forms.Form):
    """A form that shows the problems of a verb's checks beside their fields."""

    zone_field_prefix = "zone_"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone_errors: list[str] = []

    def show_problems(self, error: ValidationError) -> None:
        for field, errors in error.error_dict.items():
            target = PROBLEM_FIELDS.get(field, field)
            for problem in errors:
                if target == "zones":
                    self.zone_errors.extend(problem.messages)
                elif target in self.fields:
                    self.add_error(target, problem)
                else:
                    self.add_error(None, problem)

    @property
    def has_problems(self) -> bool:
        return bool(self.errors or self.zone_errors)


class NetworkChoices:
    """The zones (a vSwitch in each the service offers) and security groups of `self.vpc`, for
    a request's form and for changing a failed request's choices."""

    service: PublishedService
    vpc: Vpc | None

    def add_network_fields(self, *, zones=None, security_groups=None) -> None:
        """The fields; `zones` ({zone_id: vswitch}) and `security_groups` preselect a request's."""
        self.zone_rows = self._zone_rows(zones)
        groups = SecurityGroup.objects.filter(vpc=self.vpc, present=True) if self.vpc else []
        if security_groups is None:
            # A VPC with one group: that one (the seed's VPC1 has sg-vpc1).
            security_groups = [groups[0]] if len(groups) == 1 else []
        self.fields["security_groups"] = SecurityGroupsField(
            queryset=groups or SecurityGroup.objects.none(),
            widget=forms.CheckboxSelectMultiple,
            label=_("Security groups"),
            required=False,
            initial=[group.pk for group in security_groups],
        )

    def chosen_zones(self, data: dict) -> list[ZoneChoice]:
        return [
            ZoneChoice(row["zone_id"], data[row["field"]])
            for row in self.zone_rows
            if row["field"] and data.get(row["field"])
        ]

    def _zone_rows(self, chosen: dict | None) -> list[dict]:
        """A row per zone of the chosen VPC or of the service: a vSwitch choice where the
        service is offered, the reason where it is not (the endpoint's zones are a subset of
        the service's)."""
        offered = self.service.zone_ids
        unsupported = unsupported_zones(self.vpc, nlb=False) if self.vpc is not None else {}
        vswitches = list(VSwitch.objects.filter(vpc=self.vpc, present=True)) if self.vpc else []
        rows = []
        for zone_id in sorted({v.zone_id for v in vswitches} | set(offered)):
            in_zone = [v for v in vswitches if v.zone_id == zone_id]
            if zone_id not in offered:
                reason = _("%(service)s is not offered in this zone.") % {"service": self.service}
                rows.append({"zone_id": zone_id, "field": None, "reason": reason})
                continue
            if zone_id in unsupported:
                rows.append({"zone_id": zone_id, "field": None, "reason": unsupported[zone_id]})
                continue
            name = f"{self.zone_field_prefix}{zone_id}"
            self.fields[name] = VSwitchChoiceField(
                queryset=VSwitch.objects.filter(pk__in=[v.pk for v in in_zone]),
                required=False,
                label=zone_id,
                empty_label=_("— not in this zone —"),
                initial=_preselected(zone_id, in_zone, chosen),
            )
            reason = "" if in_zone else _("The VPC has no vSwitch in this zone.")
            rows.append({"zone_id": zone_id, "field": name, "reason": reason})
        return rows

    def zone_fields(self):
        return [(row, self[row["field"]] if row["field"] else None) for row in self.zone_rows]


def _preselected(zone_id: str, in_zone: list[VSwitch], chosen: dict | None) -> int | None:
    """A request's vSwitch in the zone, when there is a request; else the zone's only one."""
    if chosen is not None:
        vswitch = chosen.get(zone_id)
        return vswitch.pk if vswitch is not None else None
    return in_zone[0].pk if len(in_zone) == 1 else None


class AccessRequestForm(NetworkChoices, ChecksForm):
    """Request access to a service (seed step 5): the team's VPC, a vSwitch in each zone the
    service offers, security groups, why, and until when."""

    # Not required here: the verb's own check says what is missing, as the API does.
    justification = forms.CharField(
        label=_("Justification"),
        # What people type is data: a browser's translator must leave it as written.
        widget=forms.Textarea(attrs={"rows": 3, "translate": "no"}),
        max_length=5000,
        required=False,
        help_text=_("Why the team needs access; the service's owners read it before approving."),
    )
    expires_at = forms.DateTimeField(
        label=_("Access until (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, user, service, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.service = user, service
        self.fields["team"] = team_field(user, managed=False, label=_("Team"))
        self.fields["vpc"] = vpc_field(
            user,
            label=_("VPC"),
            empty_label=None,
            help_text=_("One of your team's VPCs: the endpoint is made in it."),
        )
        self.vpc = self._chosen_vpc()
        self.add_network_fields()
        # Typed in the person's zone (connections.pages.preferences): say which.
        self.fields["expires_at"].help_text = _(
            "In your time zone, %(zone)s. The access is revoked then; leave empty to keep it."
        ) % {"zone": timezone.get_current_timezone_name()}
        self.order_fields(["team", "vpc", "security_groups", "justification", "expires_at"])

    def _chosen_vpc(self) -> Vpc | None:
        field = self.fields["vpc"]
        value = self.data.get(self.add_prefix("vpc")) or self.initial.get("vpc")
        if value:
            try:
                return field.clean(value)
            except ValidationError:
                pass
        return field.queryset.first()

    def clean(self) -> dict:
        data = super().clean()
        zones = data["zones"] = self.chosen_zones(data)
        if data.get("team") is None or data.get("vpc") is None:
            return data  # the field's own error says which
        # Every check at once, beside the fields that are fine so far and those that are not.
        problems = preflight.request_problems(
            self.user,
            service=self.service,
            team=data["team"],
            vpc=data["vpc"],
            security_groups=list(data.get("security_groups") or []),
            zones=zones,
            justification=data.get("justification") or "",
            expires_at=data.get("expires_at"),
        )
        if problems.errors:
            self.show_problems(ValidationError(problems.errors))
        return data

    def verb_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "service": self.service,
            "team": data["team"],
            "vpc": data["vpc"],
            "security_groups": list(data["security_groups"]),
            "zones": data["zones"],
            "justification": data["justification"] or "",
            "expires_at": data.get("expires_at"),
        }


class AmendForm(NetworkChoices, ChecksForm):
    """A failed request's vSwitches and security groups, chosen again before its retry."""

    def __init__(self, *args, access_request: AccessRequest, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.access_request = user, access_request
        self.service, self.vpc = access_request.service, access_request.vpc
        self.add_network_fields(
            zones={zone.zone_id: zone.vswitch for zone in access_request.zones.all()},
            security_groups=list(access_request.security_groups.all()),
        )

    def clean(self) -> dict:
        data = super().clean()
        data["zones"] = self.chosen_zones(data)
        data["security_groups"] = list(data.get("security_groups") or [])
        problems = preflight.amend_problems(
            self.user,
            self.access_request,
            security_groups=data["security_groups"],
            zones=data["zones"],
        )
        if problems.errors:
            self.show_problems(ValidationError(problems.errors))
        return data


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=5000,
        help_text=_("The requesting team reads it."),
        error_messages={"required": _("Give a reason for the rejection.")},
    )


class ServiceSettingsForm(ChecksForm):
    """Who is let in without a decision, and how many may connect."""

    auto_accept = forms.BooleanField(
        label=_("Accept every request automatically"),
        required=False,
        help_text=_("Off: each request waits for an owner's approval."),
    )
    trusted_teams = RowsChoiceField(
        queryset=Team.objects.order_by("name"),
        label=_("Trusted teams"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Their requests are approved at once."),
    )
    connection_limit = forms.IntegerField(
        label=_("Connection limit"),
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text=_("At most this many live connections; empty: no limit."),
    )

    def __init__(self, *args, owner_team: Team | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        _not_trusting_itself(self, owner_team)


def _not_trusting_itself(form: forms.Form, owner_team: Team | None) -> None:
    """The owning team is not offered as a trusted team of its own service: its owners decide
    their team's requests themselves."""
    if owner_team is not None:
        field = form.fields["trusted_teams"]
        field.queryset = field.queryset.exclude(pk=owner_team.pk)


# --- the publish wizard (seed steps 1–4), one form per step --------------------------------------


class PublishBasicsForm(ChecksForm):
    # Its rule and message are preflight.service_name's (a SlugField's would speak of "slugs"
    # and allow what the cloud refuses).
    name = forms.CharField(
        label=_("Service name"),
        max_length=63,
        help_text=_("Lower-case letters, digits and hyphens; it names the cloud resources."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=5000,
        widget=forms.Textarea({"rows": 2, "translate": "no"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["team"] = team_field(user, managed=True, label=_("Owning team"))
        self.fields["vpc"] = vpc_field(
            user,
            label=_("VPC"),
            help_text=_("The team's VPC whose instances serve it (the NLB is made there)."),
        )
        self.order_fields(["team", "name", "description", "vpc"])

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        problems = Problems()
        preflight.service_name(problems, data["name"], taken=preflight.name_taken(data["name"]))
        preflight.vpc_of_team(problems, self.user, data["team"], data["vpc"])
        if problems.errors:
            self.show_problems(ValidationError(problems.errors))
        return data


class PublishZonesForm(ChecksForm):
    """A vSwitch in each zone the NLB spans: two zones at least."""

    def __init__(self, *args, vpc: Vpc | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.vpc = vpc
        vswitches = VSwitch.objects.filter(vpc=vpc, present=True).order_by("zone_id", "vswitch_id")
        # Zones where NLB or PrivateLink is not offered are shown with why, not offered.
        self.unsupported_zones = unsupported_zones(vpc, nlb=True) if vpc is not None else {}
        for zone_id in sorted({v.zone_id for v in vswitches} - set(self.unsupported_zones)):
            in_zone = vswitches.filter(zone_id=zone_id)
            self.fields[f"{self.zone_field_prefix}{zone_id}"] = VSwitchChoiceField(
                queryset=in_zone,
                required=False,
                label=zone_id,
                empty_label=_("— not in this zone —"),
            )

    def clean(self) -> dict:
        data = super().clean()
        zones = [
            ZoneChoice(name.removeprefix(self.zone_field_prefix), vswitch)
            for name, vswitch in data.items()
            if name.startswith(self.zone_field_prefix) and vswitch
        ]
        problems = Problems()
        preflight.enough_zones(problems, zones)
        preflight.zones_supported(problems, self.vpc, zones, nlb=True)
        preflight.vswitches_match(problems, self.vpc, zones)
        if problems.errors:
            self.show_problems(ValidationError(problems.errors))
            raise ValidationError(self.zone_errors)  # a wizard step must not pass
        data["zones"] = zones
        return data


class PublishBackendsForm(ChecksForm):
    """The server group's members (step 2): instances of the VPC, each on a port, with a weight."""

    def __init__(self, *args, vpc: Vpc | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.vpc = vpc
        self.instances = list(Instance.objects.filter(vpc=vpc, present=True).order_by("name"))
        for instance in self.instances:
            key = instance.instance_id
            self.fields[f"use_{key}"] = forms.BooleanField(required=False, label=str(instance))
            # Needed only for the instances used (checked in clean).
            self.fields[f"port_{key}"] = forms.IntegerField(
                min_value=1, max_value=65535, initial=80, label=_("Port"), required=False
            )
            self.fields[f"weight_{key}"] = forms.IntegerField(
                min_value=0, max_value=100, initial=100, label=_("Weight"), required=False
            )

    def rows(self):
        return [
            (
                i,
                self[f"use_{i.instance_id}"],
                self[f"port_{i.instance_id}"],
                self[f"weight_{i.instance_id}"],
            )
            for i in self.instances
        ]

    def clean(self) -> dict:
        data = super().clean()
        backends = []
        for instance in self.instances:
            key = instance.instance_id
            if not data.get(f"use_{key}"):
                continue
            port, weight = data.get(f"port_{key}"), data.get(f"weight_{key}")
            if port is None and f"port_{key}" not in self.errors:
                self.add_error(f"port_{key}", _("Give the port this instance answers on."))
            if weight is None and f"weight_{key}" not in self.errors:
                self.add_error(f"weight_{key}", _("Give a weight from 0 to 100."))
            if port is not None and weight is not None:
                backends.append(BackendChoice(instance, port, weight))
        ticked = any(data.get(f"use_{instance.instance_id}") for instance in self.instances)
        if ticked and not backends:
            return data  # each ticked row says what is wrong with it: not "add a backend"
        problems = Problems()
        preflight.backends_in_vpc(problems, self.vpc, backends)
        if problems.errors:
            for error in problems.errors["backends"]:
                self.add_error(None, error)
        data["backends"] = backends
        return data


class PublishListenerForm(ChecksForm):
    """The listener (step 3) and who may connect (step 4)."""

    protocol = forms.ChoiceField(
        label=_("Listener protocol"), choices=ListenerProtocol.choices, initial="TCP"
    )
    port = forms.IntegerField(label=_("Listener port"), min_value=1, max_value=65535, initial=80)
    auto_accept = ServiceSettingsForm.base_fields["auto_accept"]
    trusted_teams = ServiceSettingsForm.base_fields["trusted_teams"]
    connection_limit = ServiceSettingsForm.base_fields["connection_limit"]

    def __init__(self, *args, owner_team: Team | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        _not_trusting_itself(self, owner_team)


class PublishReviewForm(forms.Form):
    """Nothing to fill in: the last step shows what will be built, and publishes unless one of
    the verb's checks, run once more on the whole, still finds a problem."""

    def __init__(self, *args, problems: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.problems = list(problems)

    def clean(self) -> dict:
        if self.problems:
            raise ValidationError(self.problems)
        return super().clean()
