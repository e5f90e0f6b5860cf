"""Who can fix a failed request or service, from the cloud's error code: the page says so beside
the cause, so nobody retries what only someone else can mend.

The codes are from Alibaba's OpenAPI metadata of the operations a request or a publish calls
(cloudsim/metadata/privatelink.json: CreateVpcEndpoint's VSwitchNotFound, SecurityGroupNotFound,
ResourceNotEnough.VSwitchIp, EniIpUnavailable, EndpointServiceNotSupportedZone, the endpoint
service's NotFound/Deleted/Locked/IncorrectStatus) and the credentials' codes of
connections/cloud/errors.py (AUTH_CODES). A code not listed is one a retry may mend, and the
platform team's otherwise.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from connections.cloud.errors import AUTH_CODES

# The cloud account's set-up: its credentials, RAM policy, products, payments.
PLATFORM = AUTH_CODES | {
    "NeedOpenProduct",
    "CheckServiceLinkRoleError",
    "OperationDenied.ServiceLinkedRoleNotExist",
    "EndpointLocked",
    "OperationDenied.FinancialLocked",
    "OperationDenied.SecurityLocked",
}
# The service's side: its endpoint service is gone, locked or not offered where asked.
SERVICE_OWNERS = {
    "EndpointServiceNotFound",
    "EndpointServiceDeleted",
    "EndpointServiceLocked",
    "IncorrectStatus.VpcEndpointService",
}
# The requesting team's choices: a vSwitch without a free address, a zone, a security group.
REQUESTERS = {
    "ResourceNotEnough.VSwitchIp",
    "EniIpUnavailable",
    "EndpointServiceNotSupportedZone",
    "EndpointZoneDuplicated",
    "VSwitchNotFound",
    "SecurityGroupNotFound",
}


def who_fixes(record) -> str:
    """In words: who can mend the failure of `record` (a failed request or service)."""
    code = record.last_error_code
    if code in PLATFORM:
        return _(
            "The platform team: the cloud account's set-up refused it. Retry once they have "
            "mended it."
        )
    if record._meta.model_name == "accessrequest":
        if code in SERVICE_OWNERS:
            return _("The owners of %(team)s: the service's side refused it.") % {
                "team": record.service.owner_team
            }
        if code in REQUESTERS:
            if record.endpoint_id:
                return _("Your team: withdraw it and request again with other choices.")
            return _("Your team: change the vSwitches or security groups below, then retry.")
    return _("Retry first: the cloud may have been busy. If it fails again, the platform team.")
