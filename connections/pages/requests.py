"""Access requests in the browser: the request form (seed step 5), the team's list, and a request's
page with its steps, timeline, endpoint, "Test connection" (step 7) and actions (step 6, revoke,
retry)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from connections import actions, policies, states
from connections.choices import RequestState
from connections.failures import who_fixes
from connections.filtersets import AccessRequestFilterSet
from connections.models import AccessRequest, ConnectionTest, PublishedService
from connections.monitoring.rules import last_day_by_hour
from connections.pages import live
from connections.pages.forms import AccessRequestForm, AmendForm, RejectForm
from connections.pages.paging import paginate
from connections.pages.refusals import REFUSALS, attempt, back_to, refusal_message
from connections.states import REQUEST_TERMINAL, REQUEST_WORKFLOWS, InvalidTransition
from connections.workflows.provision import AUTO_ACCEPTED, AUTO_APPROVED

# The steps a request goes through, as its page shows them (docs/design.md's state diagram).
STEPS = [
    (RequestState.SUBMITTED, gettext_lazy("Submitted")),
    (RequestState.PROVISIONING, gettext_lazy("Provisioning")),
    (RequestState.PENDING_APPROVAL, gettext_lazy("Approval")),
    (RequestState.CONNECTING, gettext_lazy("Connecting")),
    (RequestState.CONNECTED, gettext_lazy("Connected")),
]
STEP_ORDER = [state for state, _label in STEPS]
# A failed request's page marks the step of the workflow that failed: the last state on the page
# that workflow runs in (a failed revoke, on no step of the page, marks the last).
FAILED_AT = {
    workflow: state for state, workflow in REQUEST_WORKFLOWS.items() if state in STEP_ORDER
}
# Once passed, the approval step says whether a person approved or the service's own rules did.
APPROVED_BY_A_PERSON = gettext_lazy("Approved")
APPROVED_AUTOMATICALLY = gettext_lazy("Approved automatically")


# What a closed request's "Request again" fills in (the form's own fields, by name).
AGAIN_FIELDS = ("team", "vpc", "justification")


@live.page()
def request_form(request, pk: int):
    """Request access to a service. The zones' vSwitches follow the chosen VPC (htmx reloads
    them from `request_zones`); "Check" runs every pre-flight check without submitting."""
    service = PublishedService.objects.with_details().filter(pk=pk).first()
    if service is None:
        raise Http404(_("There is no such service (any more)."))
    if not policies.permitted(request.user, "request_access", service):
        reason = _("Only members of a team may request access: ask a platform admin to add you.")
        return render(request, "connections/forbidden.html", {"reason": reason}, status=403)
    if not states.state_allows("request_access", service):
        messages.error(
            request,
            _("%(service)s is %(state)s: access can be requested once it is available.")
            % {"service": service, "state": service.get_state_display().lower()},
        )
        return redirect("connections:service_detail", pk=pk)
    if request.method == "POST":
        form = AccessRequestForm(request.POST, user=request.user, service=service)
        if request.POST.get("action") != "check" and form.is_valid() and not form.has_problems:
            try:
                access_request = actions.request_access(request.user, **form.verb_arguments())
            except REFUSALS as error:
                form.add_error(None, refusal_message(error))
            else:
                submitted = _("Request submitted: this page follows its steps as they are taken.")
                messages.success(request, submitted)
                return back_to(
                    request, reverse("connections:request_detail", args=[access_request.pk])
                )
        checked = (
            request.POST.get("action") == "check" and form.is_valid() and not form.has_problems
        )
    else:
        # "Request again" on a closed request brings its team, VPC and justification along.
        asked = {name: request.GET[name] for name in AGAIN_FIELDS if name in request.GET}
        form = AccessRequestForm(initial=asked, user=request.user, service=service)
        checked = False
    context = {"nav": "catalog", "service": service, "form": form, "checked": checked}
    return render(request, "connections/accessrequest_form.html", context)


@live.page()
def request_zones(request, pk: int):
    """The zone rows for the VPC being chosen (htmx, when the VPC changes): a fresh form for that
    VPC, with its preselections and no errors yet."""
    service = PublishedService.objects.with_details().filter(pk=pk).first()
    if service is None:
        raise Http404
    initial = {"vpc": request.GET.get("vpc"), "team": request.GET.get("team")}
    form = AccessRequestForm(initial=initial, user=request.user, service=service)
    return render(request, "connections/partials/request_zones.html", {"form": form})


LIST_ORDER = ("-created_at", "-id")


def _team_requests(request) -> AccessRequestFilterSet:
    """The requests of the person's teams, filtered as asked (the person from the session)."""
    mine = AccessRequest.objects.filter(policies.team_requests_q(live.signed_in_user_id(request)))
    return AccessRequestFilterSet(request.GET, queryset=mine)


def rows_version(rows) -> str:
    """What a list of requests shows changes with the rows on it and their state and health."""
    return live.fingerprint(*[(r.pk, r.state, r.health) for r in rows])


def _list_version(request) -> str:
    fields = ("pk", "state", "health")
    return rows_version(
        paginate(request, _team_requests(request).qs.only(*fields), LIST_ORDER).rows
    )


@live.page(version=_list_version)
def request_list(request):
    """The person's teams' requests, newest first, with live state and health."""
    polling = request.htmx and request.GET.get("fragment") == "rows"
    filterset = _team_requests(request)
    page = paginate(request, filterset.qs.for_list(), LIST_ORDER)
    version = rows_version(page.rows)
    context = {"nav": "requests", "filterset": filterset, "page": page, "version": version}
    if polling:
        return render(request, "connections/partials/request_rows.html", context)
    return render(request, "connections/accessrequest_list.html", context)


def _request_for(user, pk: int) -> AccessRequest:
    access_request = AccessRequest.objects.visible_to(user).with_details().filter(pk=pk).first()
    if access_request is None:
        raise Http404(_("This request does not exist, or you may no longer see it."))
    return access_request


def steps_of(access_request: AccessRequest, events=()) -> list[tuple[str, str]]:
    """(label, done/current/failed/ended/todo) for each step of the path the request took: the
    happy path while it is on it; for one that ended (or is ending), the steps it passed, then
    how it ended (rejected, revoking, revoked), never steps it did not reach shown as done. Its
    `events` tell how it was approved."""
    state = access_request.state
    automatic = any(event.verb in (AUTO_ACCEPTED, AUTO_APPROVED) for event in events)

    def label_of(step, label, mark):
        if step == RequestState.PENDING_APPROVAL and mark == "done":
            return APPROVED_AUTOMATICALLY if automatic else APPROVED_BY_A_PERSON
        return label

    if state in REQUEST_TERMINAL or state == RequestState.REVOKING:
        # Connected before, or stopped at the approval (rejected, or revoked while waiting).
        passed = STEP_ORDER.index(
            RequestState.CONNECTED if access_request.connected_at else RequestState.PROVISIONING
        )
        marks = [(label_of(step, label, "done"), "done") for step, label in STEPS[: passed + 1]]
        ending = "current" if state == RequestState.REVOKING else "ended"
        return [*marks, (access_request.get_state_display(), ending)]
    if state == RequestState.FAILED:
        reached = STEP_ORDER.index(FAILED_AT.get(access_request.failed_phase, STEP_ORDER[-1]))
    else:
        reached = STEP_ORDER.index(state)
    marks = []
    for index, (step, label) in enumerate(STEPS):
        if index < reached or (index == reached and state == RequestState.CONNECTED):
            mark = "done"
        elif index == reached:
            mark = "failed" if state == RequestState.FAILED else "current"
        else:
            mark = "todo"
        marks.append((label_of(step, label, mark), mark))
    return marks


def _detail_context(request, access_request, version: str, test_version: str, amend_form=None):
    """What a request's page shows (its live part too); `amend_form`: a change of choices that
    did not pass its checks, shown with its problems."""
    service = access_request.service
    actions_allowed = policies.allowed_actions(request.user, access_request)
    events = list(access_request.events.select_related("actor").order_by("created_at", "id"))
    return {
        "nav": "requests",
        "access_request": access_request,
        "service": service,
        "steps": steps_of(access_request, events),
        "actions": actions_allowed,
        "service_actions": policies.allowed_actions(request.user, service),
        "requesting_side": policies.is_member(request.user, access_request.consumer_team),
        "events": events,
        "test": access_request.connection_tests.select_related("requested_by").first(),
        "test_version": test_version,
        "reject_form": RejectForm(),
        "version": version,
        "live": access_request.state not in REQUEST_TERMINAL
        or bool(access_request.endpoint_id and not access_request.endpoint_deleted_at),
        "curl": f"curl http://{access_request.endpoint_domain}:{service.listener_port}",
        # What no longer exists is not offered: a closed request's endpoint, domain and IPs.
        "closed": access_request.state in REQUEST_TERMINAL,
        "amend_form": amend_form,
        "who_fixes": who_fixes(access_request) if access_request.last_error_code else "",
        "health_hours": (
            last_day_by_hour(access_request) if access_request.health_checked_at else []
        ),
    }


@live.page(version=lambda request, pk: live.request_version(pk, live.signed_in_user_id(request)))
def request_detail(request, pk: int):
    """One request as either side sees it; its live part is polled."""
    polling = request.htmx and request.GET.get("fragment") == "live"
    # The versions first, then what they stand for: a change committed in between is then
    # newer than the version the page carries, and its next poll draws it. Taken after, it
    # would stamp what the page shows with a version that already includes the change, and
    # every poll after would find nothing new.
    version = live.request_version(pk, request.user.pk)
    test_version = live.test_version(pk, request.user.pk)
    try:
        access_request = _request_for(request.user, pk)
    except Http404:
        if polling:
            return render(request, "connections/partials/gone.html", status=200)
        raise
    context = _detail_context(request, access_request, version, test_version)
    if polling:
        return render(request, "connections/partials/request_live.html", context)
    if "amend" in context["actions"]:  # outside the live part: a poll never redraws it
        context["amend_form"] = AmendForm(access_request=access_request, user=request.user)
    return render(request, "connections/accessrequest_detail.html", context)


# action → (the verb, what to say when it went through). Said so that it stays true while the page
# follows the work below it: a message naming a passing state ("Revoking…") would stay on the
# page after the state has moved on.
ACTIONS = {
    "approve": (
        lambda user, r, form: actions.approve_request(user, r),
        gettext_lazy("Approved: this page shows the connection as it is made."),
    ),
    "revoke": (
        lambda user, r, form: actions.revoke_request(user, r),
        gettext_lazy("Revoke started: this page shows when the endpoint is gone."),
    ),
    "retry": (
        lambda user, r, form: actions.retry_request(user, r),
        gettext_lazy("Retry started from the step that failed: this page follows it."),
    ),
    "reject": (
        lambda user, r, form: actions.reject_request(user, r, reason=form["reason"]),
        gettext_lazy("Rejected: the requesting team reads your reason."),
    ),
}


# What a revoke breaks, said where it is asked and again when it was not confirmed: a plain
# click (or a POST without `confirm`) revokes nothing.
UNCONFIRMED_REVOKE = gettext_lazy(
    "Nothing was revoked: tick the box to confirm. Revoking deletes the endpoint, and machines "
    "in %(vpc)s lose their access to %(service)s."
)


@login_required
@require_POST
def request_action(request, pk: int, action: str):
    """Approve, reject (with its reason), revoke (confirmed) or retry, then back to where it was
    asked."""
    access_request = _request_for(request.user, pk)
    verb, done = ACTIONS[action]
    form = RejectForm(request.POST) if action == "reject" else None
    unconfirmed = action == "revoke" and request.POST.get("confirm") != "yes"
    # Who may not revoke is told so by the verb, confirmed or not.
    if unconfirmed and policies.permitted(request.user, "revoke", access_request):
        names = {"vpc": access_request.vpc, "service": access_request.service}
        messages.error(request, UNCONFIRMED_REVOKE % names)
    elif form is not None and not form.is_valid():
        messages.error(request, _("Give a reason for the rejection."))
    else:
        data = form.cleaned_data if form is not None else None
        attempt(request, lambda: verb(request.user, access_request, data), done)
    return back_to(request, _next_url(request, access_request))


@login_required
@require_POST
def request_amend(request, pk: int):
    """A failed request's vSwitches and security groups chosen again, then its retry; a choice
    that fails its checks shows beside its field on the request's page."""
    access_request = _request_for(request.user, pk)
    here = reverse("connections:request_detail", args=[pk])
    # Who may, and whether it still may be changed, before what was chosen: nobody else is shown
    # a form's problems, and a request that has moved on is not changed behind its back.
    try:
        policies.require(request.user, "amend", access_request)
        if not states.state_allows("amend", access_request):
            raise InvalidTransition(access_request, "amend")
    except REFUSALS as error:
        messages.error(request, refusal_message(error))
        return back_to(request, here)
    form = AmendForm(request.POST, access_request=access_request, user=request.user)
    if form.is_valid() and not form.has_problems:

        def amend():
            return actions.amend_request(
                request.user,
                access_request,
                security_groups=form.cleaned_data["security_groups"],
                zones=form.cleaned_data["zones"],
            )

        done = _("Changed: the request resumes with the new choices; this page follows it.")
        attempt(request, amend, done)
        return back_to(request, here)
    version = live.request_version(pk, request.user.pk)
    test_version = live.test_version(pk, request.user.pk)
    context = _detail_context(request, access_request, version, test_version, amend_form=form)
    return render(request, "connections/accessrequest_detail.html", context, status=400)


def _next_url(request, access_request: AccessRequest) -> str:
    """Back to the page the button was on (the queue or the request), never off the site."""
    queue = reverse("connections:approval_list")
    if request.POST.get("next", "").startswith(queue):
        return request.POST["next"]
    return reverse("connections:request_detail", args=[access_request.pk])


@live.page(version=lambda request, pk: live.test_version(pk, live.signed_in_user_id(request)))
def connection_test(request, pk: int):
    """POST: test the connection now (a worker runs the probe). GET: the latest test, polled
    until it is done, for those who may test (both sides' owners and the requesting team)."""
    try:
        access_request = _request_for(request.user, pk)
    except Http404:
        if request.htmx:  # the region says so, and stops polling
            return render(request, "connections/partials/gone.html")
        raise
    if not policies.permitted(request.user, "test", access_request):
        raise Http404(_("This request does not exist, or you may no longer see it."))
    if request.method == "POST":
        try:
            actions.test_connection(request.user, access_request)
        except REFUSALS as error:
            messages.error(request, refusal_message(error))
            return back_to(request, reverse("connections:request_detail", args=[pk]))
        if not request.htmx:
            return redirect("connections:request_detail", pk=pk)
    test_version = live.test_version(pk, request.user.pk)  # before the test (request_detail)
    test = ConnectionTest.objects.filter(access_request=access_request).first()
    return render(
        request,
        "connections/partials/connection_test.html",
        {"access_request": access_request, "test": test, "test_version": test_version},
    )
