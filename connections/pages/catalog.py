"""The catalog and a service's page: what is published, and for its owners its connections,
settings, retirement and retry."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from connections import actions, policies
from connections.choices import ServiceState
from connections.failures import who_fixes
from connections.filtersets import PublishedServiceFilterSet
from connections.models import AccessRequest, Finding, PublishedService, Team
from connections.pages import live
from connections.pages.forms import ServiceSettingsForm
from connections.pages.paging import paginate
from connections.pages.refusals import attempt, back_to
from connections.states import REQUEST_LIVE, SERVICE_TERMINAL
from connections.workflows.service import PUBLISH

CATALOG_ORDER = ("name", "id")


def _catalog_filterset(request) -> PublishedServiceFilterSet:
    """Retired services only when the state filter asks for them (State: Retired): kept out of
    the way, not out of reach."""
    services = PublishedService.objects.all()
    if not request.GET.get("state"):
        services = services.exclude(state=ServiceState.RETIRED)
    return PublishedServiceFilterSet(request.GET, queryset=services)


def _catalog_page(request, services_):
    """A page of the catalog, each service with the last change of the person's teams' requests
    to it (the person from the session: a poll needs no other query)."""
    mine = AccessRequest.objects.filter(
        service=OuterRef("pk"), consumer_team__memberships__user_id=live.signed_in_user_id(request)
    ).order_by("-updated_at")
    return paginate(
        request, services_.annotate(mine=Subquery(mine.values("updated_at")[:1])), CATALOG_ORDER
    )


def _rows_version(rows) -> str:
    """What the page's rows show changes with each service's state, health and last change, and
    with the person's requests to it."""
    return live.fingerprint(*[(s.pk, s.state, s.health, s.updated_at, s.mine) for s in rows])


def _catalog_version(request) -> str:
    shown = _catalog_filterset(request).qs.only("pk", "name", "state", "health", "updated_at")
    return _rows_version(_catalog_page(request, shown).rows)


@live.page(version=_catalog_version)
def catalog(request):
    """Every service that is not retired (those on asking), searchable like GET
    /api/v1/services/, with the person's own access to each."""
    polling = request.htmx and request.GET.get("fragment") == "rows"
    filterset = _catalog_filterset(request)
    page = _catalog_page(request, filterset.qs.for_catalog())
    context = {
        "nav": "catalog",
        "filterset": filterset,
        "teams": Team.objects.order_by("name"),
        "page": page,
        "rows": _rows(request.user, page.rows),
        "version": _rows_version(page.rows),
    }
    if polling:
        return render(request, "connections/partials/service_rows.html", context)
    return render(request, "connections/publishedservice_list.html", context)


@dataclass(frozen=True)
class CatalogRow:
    """What a row of the catalog shows, worked out once in Python: the template only prints it
    (a catalog page is the portal's most asked-for page)."""

    service: PublishedService
    url: str
    description: str
    zones: str
    mine: list[tuple[str, AccessRequest]]  # (url, request) of the person's teams' live requests
    request_url: str | None  # where to request access, when the person may


def _rows(user, services_: list) -> list[CatalogRow]:
    """Each service with the live requests of the person's teams to it (one query)."""
    roles = policies.roles_of(user)
    mine = (
        AccessRequest.objects.filter(
            service__in=services_, consumer_team_id__in=roles.member_of, state__in=REQUEST_LIVE
        )
        .select_related("consumer_team")
        # What a row's badge shows of each: its state and team.
        .only("id", "service_id", "state", "consumer_team__name")
        .order_by()
    )
    by_service: dict[int, list] = {}
    request_path = reverse("connections:request_detail", args=[0])
    for access_request in mine:
        url = request_path.replace("/0/", f"/{access_request.pk}/")
        by_service.setdefault(access_request.service_id, []).append((url, access_request))
    detail_path = reverse("connections:service_detail", args=[0])
    form_path = reverse("connections:request_form", args=[0])
    rows = []
    for service in services_:
        may_request = "request_access" in policies.allowed_actions(user, service)
        rows.append(
            CatalogRow(
                service=service,
                url=detail_path.replace("/0/", f"/{service.pk}/"),
                description=Truncator(service.description).chars(120),
                zones=", ".join(zone_id for (zone_id,) in service.zone_ids_list or ()),
                mine=by_service.get(service.pk, []),
                request_url=form_path.replace("/0/", f"/{service.pk}/") if may_request else None,
            )
        )
    return rows


def _service_for(user, pk: int) -> PublishedService:
    service = PublishedService.objects.with_owner_details(user).filter(pk=pk).first()
    if service is None:
        raise Http404(_("There is no such service (any more)."))
    return service


def publish_steps(service: PublishedService) -> list[tuple[str, str]]:
    """(label, done/current/failed/todo) of each stage while a publish runs or failed."""
    names = [step.name for step in PUBLISH.steps]
    finished = names.index(service.progress) if service.progress in names else -1
    marks, current_found = [], False
    for label, last_step in PUBLISH.stages:
        if finished >= names.index(last_step):
            mark = "done"
        elif not current_found:
            current_found = True
            mark = "failed" if service.state == ServiceState.FAILED else "current"
        else:
            mark = "todo"
        marks.append((label, mark))
    return marks


@live.page(version=lambda request, pk: live.service_version(pk))
def service_detail(request, pk: int):
    """A service: what it offers, and for its owners its backends, connections, timeline and
    settings. Its live parts are polled (connections/pages/live.py)."""
    version = live.service_version(pk)  # before what it stands for (pages/requests.py)
    service = _service_for(request.user, pk)
    owner = policies.sees_owner_fields(request.user, service)
    publishing = service.state == ServiceState.PROVISIONING or (
        service.state == ServiceState.FAILED and service.failed_phase == PUBLISH.name
    )
    context = {
        "nav": "catalog",
        "service": service,
        "owner": owner,
        "actions": policies.allowed_actions(request.user, service),
        "version": version,
        "live": service.state not in SERVICE_TERMINAL,
        "publish_steps": publish_steps(service) if publishing else [],
        "who_fixes": who_fixes(service) if service.last_error_code else "",
        # The person's teams' live access to it: linked, so nobody asks twice for the same VPC.
        "my_requests": list(
            service.requests.filter(
                policies.team_requests_q(request.user.pk), state__in=REQUEST_LIVE
            ).select_related("vpc")
        ),
    }
    if owner:
        context["connections"] = service.requests.select_related(
            "consumer_team", "vpc__account"
        ).order_by("-created_at")[:50]
        latest = service.events.select_related("actor").order_by("-created_at", "-id")[:50]
        context["events"] = sorted(latest, key=lambda event: (event.created_at, event.pk))
        context["findings"] = [
            (finding, "clean_up" in policies.allowed_actions(request.user, finding))
            for finding in service.findings.open().select_related("service")
        ]
        context["settings_form"] = ServiceSettingsForm(
            initial={
                "auto_accept": service.auto_accept,
                "trusted_teams": list(service.trusted_teams.all()),
                "connection_limit": service.connection_limit,
            },
            owner_team=service.owner_team,
        )
    fragment = request.GET.get("fragment") if request.htmx else None
    if fragment in ("live", "timeline"):
        response = render(request, f"connections/partials/service_{fragment}.html", context)
        if request.GET.get("shown", service.state) != service.state:
            # What may be done (Request access, the owners' settings, Retire) follows the state,
            # outside the live regions: show the whole page again.
            response["HX-Refresh"] = "true"
        return response
    return render(request, "connections/publishedservice_detail.html", context)


@login_required
@require_POST
def service_settings(request, pk: int):
    service = _service_for(request.user, pk)
    form = ServiceSettingsForm(request.POST, owner_team=service.owner_team)
    if form.is_valid():
        attempt(
            request,
            lambda: actions.update_service_settings(
                request.user,
                service,
                auto_accept=form.cleaned_data["auto_accept"],
                trusted_teams=form.cleaned_data["trusted_teams"],
                connection_limit=form.cleaned_data["connection_limit"],
            ),
            _("Settings saved."),
        )
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return back_to(request, reverse("connections:service_detail", args=[pk]))


@login_required
@require_POST
def service_retire(request, pk: int):
    """Retire, once the service's name is typed to confirm it (as the clouds' consoles ask)."""
    service = _service_for(request.user, pk)
    force = request.POST.get("force") == "on"
    typed = request.POST.get("confirm_name", "").strip()
    # Who may not retire is told so by the verb, whatever they typed.
    if typed != service.name and policies.permitted(request.user, "retire", service):
        messages.error(
            request,
            _("Nothing was retired: type the service's name, %(name)s, to confirm.")
            % {"name": service.name},
        )
        return back_to(request, reverse("connections:service_detail", args=[pk]))
    attempt(
        request,
        lambda: actions.retire_service(request.user, service, force=force),
        _("Retire started: %(service)s is taken down in order; this page follows it.")
        % {"service": service},
    )
    return back_to(request, reverse("connections:service_detail", args=[pk]))


@login_required
@require_POST
def service_retry(request, pk: int):
    service = _service_for(request.user, pk)
    attempt(
        request,
        lambda: actions.retry_service(request.user, service),
        _("Retry started from the step that failed: this page follows it."),
    )
    return back_to(request, reverse("connections:service_detail", args=[pk]))


@login_required
@require_POST
def finding_clean_up(request, pk: int, finding_pk: int):
    """An owner's "Clean up" of what the health sweep found on their service."""
    finding = (
        Finding.objects.visible_to(request.user)
        .select_related("service")
        .filter(pk=finding_pk, service_id=pk)
        .first()
    )
    if finding is None:
        raise Http404(_("There is no such finding (any more)."))
    attempt(
        request,
        lambda: actions.clean_up_finding(request.user, finding),
        _("Cleaning up %(resource)s: the portal removes it, after checking again that the portal "
          "made it.") % {"resource": finding.resource_id},
    )  # fmt: skip
    return back_to(request, reverse("connections:service_detail", args=[pk]))
