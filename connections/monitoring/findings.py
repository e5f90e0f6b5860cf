"""What the cloud holds that the portal's records do not account for (models.Finding).

The health sweep (monitoring/sweep.py) records four kinds, for the owners of the service they
concern (platform admins for one no service accounts for):

- a connection to a published service from an endpoint no request of the portal made
  (unmanaged: reported, never touched: someone created it in the console, perhaps on purpose);
- an account on a service's whitelist that no live request needs (stale);
- an endpoint with this portal's tags whose request the portal does not have (an orphan, left by
  a request deleted from the database, or by a portal restored from an older backup);
- a published service changed outside the portal on the provider's side (a load balancer,
  listener or endpoint service deleted, a listener stopped, a backend removed, the load
  balancer detached, auto-accept switched: connections/monitoring/provider_drift.py).

An owner's "clean up" (actions.clean_up_finding, then `clean_up` on a worker) removes a stale
entry or an orphan only if the portal made it: an orphan's tags name this installation, and a
whitelist entry is the portal's when one of its requests put the account there (the
`whitelisted account` event). Both are checked again against the cloud and the database right
before anything is removed.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connections.choices import INSTALLATION_TAG_KEY, MANAGED_BY_TAG, REQUEST_TAG_KEY
from connections.cloud import CloudError, CloudSession, RetryableCloudError
from connections.models import AccessRequest, Event, Finding, PublishedService
from connections.workflows.whitelist import (
    WHITELISTED,
    WITHDRAWAL_HOLD,
    requests_needing_whitelisting,
)

logger = logging.getLogger(__name__)

Kind = Finding.Kind
# What clean_up answers while its work needs another round (a zone still being removed, a busy
# or throttled call): the task runs it again a little later (tasks.clean_up_finding).
STILL_CLEANING = "in progress"


def portal_request_of(resource: dict) -> str | None:
    """The request uuid a cloud resource's tags name, when this installation made it."""
    tags = {tag.get("Key"): tag.get("Value") for tag in resource.get("Tags") or []}
    ours = (
        tags.get(MANAGED_BY_TAG[0]) == MANAGED_BY_TAG[1]
        and tags.get(INSTALLATION_TAG_KEY) == settings.PORTAL_INSTALLATION_ID
    )
    return tags.get(REQUEST_TAG_KEY) if ours else None


def whitelist_resource_id(service: PublishedService, uid: str) -> str:
    return f"{service.pk}:{uid}"


# --- recording (called by the sweep with what it read) -----------------------------------------


def record_findings(views, services, whitelists: dict[int, list[str]], drifts, now) -> int:
    """Open what is new, touch what is still there, resolve what is gone: in the accounts that
    could be read. `views` are the sweep's AccountViews by account id; `whitelists` the accounts
    on each service's whitelist, by service id (a service whose list could not be read is not
    in it); `drifts` what changed on each service's side (provider_drift.ServiceDrift, by
    service id). Returns how many findings are open."""
    by_endpoint_service = {s.endpoint_service_id: s for s in services if s.endpoint_service_id}
    known_endpoints = set(
        AccessRequest.objects.filter(endpoint_id__gt="").values_list("endpoint_id", flat=True)
    )
    known_uuids = {u.hex for u in AccessRequest.objects.values_list("uuid", flat=True)}
    found: dict[tuple[str, int, str], dict] = {}
    readable = [view for view in views.values() if not view.error]
    for view in readable:
        for endpoint_id, endpoint in view.endpoints.items():
            request_uuid = portal_request_of(endpoint)
            # One being deleted (a clean-up's, or the console's) is on its way out already.
            if (
                request_uuid is not None
                and request_uuid not in known_uuids
                and endpoint.get("EndpointStatus") != "Deleting"
            ):
                found[(Kind.ORPHAN_ENDPOINT, view.account.pk, endpoint_id)] = {
                    "service": by_endpoint_service.get(endpoint.get("ServiceId")),
                    "made_by_portal": True,
                    "detail": f"in VPC {endpoint.get('VpcId')}, made for request "
                    f"{request_uuid}, which this portal does not have",
                }
    # An orphan's connection is the orphan's finding, not a second, unmanaged one.
    orphans = {resource_id for _kind, _account, resource_id in found}
    for view in readable:
        for endpoint_id, connection in view.connections.items():
            service = by_endpoint_service.get(connection.get("ServiceId"))
            if service is None or endpoint_id in known_endpoints or endpoint_id in orphans:
                continue
            found[(Kind.UNMANAGED_CONNECTION, view.account.pk, endpoint_id)] = {
                "service": service,
                "detail": (
                    f"from account {connection.get('EndpointOwnerId')}, VPC "
                    f"{connection.get('EndpointVpcId')}: {connection.get('ConnectionStatus')}"
                ),
            }
    found.update(_stale_whitelists(services, whitelists))
    for drift in drifts.values():
        for change in drift.changes:
            key = (Kind.SERVICE_CHANGED, drift.service.account_id, change.resource_id)
            found[key] = {"service": drift.service, "detail": change.detail}
    return _save(found, views, services, whitelists, now)


def _stale_whitelists(services, whitelists: dict[int, list[str]]) -> dict:
    """Accounts on a service's whitelist that no live request of that account needs."""
    needing, withdrawing, whitelisted_by_us = set(), set(), set()
    pairs = ("service_id", "vpc__account__uid")
    needing.update(requests_needing_whitelisting().filter(service__in=services).values_list(*pairs))
    # A request taking its account off right now does it itself (workflows/whitelist.py).
    withdrawing.update(
        AccessRequest.objects.filter(
            service__in=services, withdrawing_whitelist_until__gt=timezone.now()
        ).values_list(*pairs)
    )
    whitelisted_by_us.update(
        Event.objects.filter(verb=WHITELISTED, access_request__service__in=services).values_list(
            "access_request__service_id", "access_request__vpc__account__uid"
        )
    )
    found = {}
    for service in services:
        for uid in whitelists.get(service.pk, ()):
            if (service.pk, uid) in needing or (service.pk, uid) in withdrawing:
                continue
            made_by_portal = (service.pk, uid) in whitelisted_by_us
            key = (Kind.STALE_WHITELIST, service.account_id, whitelist_resource_id(service, uid))
            found[key] = {
                "service": service,
                "made_by_portal": made_by_portal,
                "detail": f"account {uid} is on the whitelist of {service.name}, and no live "
                "request of that account needs it"
                + ("" if made_by_portal else "; the portal did not put it there"),
            }
    return found


def _save(found: dict, views, services, whitelists, now) -> int:
    open_findings = {
        (f.kind, f.account_id, f.resource_id): f
        for f in Finding.objects.filter(resolved_at__isnull=True)
    }
    Finding.objects.bulk_create(
        Finding(kind=kind, account_id=account_id, resource_id=resource_id, last_seen=now, **what)
        for (kind, account_id, resource_id), what in found.items()
        if (kind, account_id, resource_id) not in open_findings
    )
    still = [open_findings[key].pk for key in found if key in open_findings]
    Finding.objects.filter(pk__in=still).update(last_seen=now)
    gone = [
        finding.pk
        for key, finding in open_findings.items()
        if key not in found and _looked_again(finding, views, services, whitelists)
    ]
    Finding.objects.filter(pk__in=gone).update(resolved_at=now, cleaning=False)
    return len(found)


def _looked_again(finding: Finding, views, services, whitelists) -> bool:
    """Did this sweep read what the finding is about? Only then does its absence mean gone."""
    view = views.get(finding.account_id)
    if view is None or view.error:
        return False
    if finding.kind == Kind.STALE_WHITELIST:
        return finding.service_id in whitelists or finding.service_id not in {
            s.pk for s in services
        }
    if finding.kind == Kind.SERVICE_CHANGED:
        # Looked at again only while the service is available (one that failed for it keeps
        # its finding until it is published again).
        return finding.service_id in {s.pk for s in services}
    return True


# --- cleaning up (a worker, on an owner's word) ------------------------------------------------


def clean_up(finding_id: int) -> str:
    """Remove what the finding names, if it is still the portal's and still not needed."""
    finding = Finding.objects.select_related("account", "service").filter(pk=finding_id).first()
    if finding is None or finding.resolved_at is not None:
        return "nothing to do"
    try:
        if finding.kind == Kind.ORPHAN_ENDPOINT:
            outcome = _delete_orphan_endpoint(finding)
        elif finding.kind == Kind.STALE_WHITELIST:
            outcome = _withdraw_stale_whitelisting(finding)
        else:
            outcome = "not the portal's to clean up"
    except RetryableCloudError as error:
        # Busy, throttled, or a zone change still under way: the task comes back (tasks.py).
        return f"{STILL_CLEANING}: {error.code}"
    except CloudError as error:
        logger.warning("clean-up of %s failed: %s", finding, error)
        message = f"{error.code}: {error.message}"
        Finding.objects.filter(pk=finding.pk).update(cleaning=False, clean_up_error=message)
        _event(finding, "clean-up failed", f"{finding}: {message}")
        return f"failed: {message}"
    if outcome.startswith(STILL_CLEANING):
        return outcome
    Finding.objects.filter(pk=finding.pk).update(
        cleaning=False, clean_up_error="", resolved_at=timezone.now()
    )
    return outcome


def give_up_cleaning(finding_id: int, outcome: str) -> str:
    """A clean-up that kept needing another round: stop, and say why on the finding."""
    message = f"The clean-up did not finish ({outcome}); try again later."
    Finding.objects.filter(pk=finding_id).update(cleaning=False, clean_up_error=message)
    return message


def _delete_orphan_endpoint(finding: Finding) -> str:
    session = CloudSession(finding.account)
    # Other credentials would find nothing, and report the orphan gone: refuse them.
    session.verify_account()
    endpoint = session.privatelink.find_endpoint(finding.resource_id)
    if endpoint is None:
        return "already gone"
    request_uuid = portal_request_of(endpoint)
    if request_uuid is None:
        return "its tags no longer say this portal made it: left alone"
    if AccessRequest.objects.filter(uuid=request_uuid).exists():
        return "its request is known again: left alone"
    status = endpoint.get("EndpointStatus")
    if status == "Deleting":
        return "deleted"
    # Zones first, one at a time, as the cloud requires (workflows/teardown.endpoint_gone).
    api = session.privatelink
    zones = api.list_endpoint_zones(finding.resource_id)
    if zones:
        if status == "Active" and not any(z.get("ZoneStatus") == "Deleting" for z in zones):
            result = api.remove_zone(finding.resource_id, zones[0]["ZoneId"])
            _event(
                finding,
                "orphan endpoint zone removed",
                f"RemoveZoneFromVpcEndpoint {finding.resource_id} {zones[0]['ZoneId']}",
                result.request_id,
            )
        return f"{STILL_CLEANING}: removing the endpoint's zones"
    result = api.delete_endpoint(finding.resource_id)
    _event(
        finding,
        "orphan endpoint deleted",
        f"DeleteVpcEndpoint {finding.resource_id} (made for request {request_uuid})",
        result.request_id,
    )
    return "deleted"


def _withdraw_stale_whitelisting(finding: Finding) -> str:
    """Take the account off, as a closed request's own withdrawal does (workflows/whitelist.py):
    decided under the service's row lock, with a hold that a new request of the account waits
    out before whitelisting it again; no lock held across the cloud call."""
    service = finding.service
    uid = finding.resource_id.partition(":")[2]
    with transaction.atomic():
        PublishedService.objects.select_for_update().only("pk").get(pk=service.pk)
        if requests_needing_whitelisting().filter(service=service, vpc__account__uid=uid).exists():
            return "needed again: left alone"
        holder = (
            AccessRequest.objects.filter(
                service=service, vpc__account__uid=uid, events__verb=WHITELISTED
            )
            .order_by("-pk")
            .first()
        )
        if holder is None:
            return "the portal did not whitelist this account: left alone"
        AccessRequest.objects.filter(pk=holder.pk).update(
            withdrawing_whitelist_until=timezone.now() + WITHDRAWAL_HOLD
        )
    try:
        session = CloudSession(service.account)
        session.verify_account()
        api = session.privatelink
        if uid not in api.list_users(service.endpoint_service_id):
            return "already off the whitelist"
        result = api.remove_user(service.endpoint_service_id, uid)
        _event(
            finding,
            "withdrew stale whitelisting",
            f"RemoveUserFromVpcEndpointService {uid}",
            result.request_id,
        )
    finally:
        AccessRequest.objects.filter(pk=holder.pk).update(withdrawing_whitelist_until=None)
    return "withdrawn"


def _event(finding: Finding, verb: str, detail: str, cloud_request_id: str = "") -> None:
    # A finding no service accounts for has no timeline: the finding itself is its record.
    if finding.service_id:
        Event.objects.create(
            service_id=finding.service_id,
            verb=verb,
            detail=detail,
            cloud_request_id=cloud_request_id or "",
        )
