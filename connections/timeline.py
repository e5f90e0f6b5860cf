"""The timeline's words as the pages show them, in the reader's language.

An event's `verb` and its `detail` are stored as written (English), and the API returns them so:
they are the audit trail's data. The pages show a verb through VERB_LABELS (falling back to the
verb as stored, for one written before its label existed), and a detail through `detail_label`:
the fixed phrases the portal's own code writes are marked with gettext_noop where they are written
and translated here (gettext returns any other text, such as a cloud's message, unchanged).
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

# Every verb the portal writes (connections/actions.py, workflows/, monitoring/).
VERB_LABELS = {
    # People's verbs
    "requested": _("requested"),
    "publish requested": _("publish requested"),
    "approve": _("approved"),
    "reject": _("rejected"),
    "revoke": _("revoke"),
    "retry": _("retry"),
    "retire": _("retire"),
    "settings changed": _("settings changed"),
    "expired": _("expired"),
    # The workers' steps
    "provisioning": _("provisioning"),
    "created endpoint": _("created endpoint"),
    "discarded endpoint": _("discarded endpoint"),
    "awaiting approval": _("awaiting approval"),
    "auto-accepted": _("auto-accepted"),
    "auto-approved": _("auto-approved"),
    "whitelisted account": _("whitelisted account"),
    "withdrew whitelisting": _("withdrew whitelisting"),
    "accepted connection": _("accepted connection"),
    "connected": _("connected"),
    "deleting endpoint": _("deleting endpoint"),
    "endpoint deleted": _("endpoint deleted"),
    "removing endpoint zone": _("removing endpoint zone"),
    "revoked": _("revoked"),
    "cleaned up": _("cleaned up"),
    "created load balancer": _("created load balancer"),
    "created server group": _("created server group"),
    "added backends": _("added backends"),
    "created listener": _("created listener"),
    "created endpoint service": _("created endpoint service"),
    "published": _("published"),
    "changed auto-accept": _("changed auto-accept"),
    "configured": _("configured"),
    "detaching service resource": _("detaching service resource"),
    "retired": _("retired"),
    "failed": _("failed"),
    "restarted": _("restarted"),
    "request failed": _("a request failed"),
    # The health sweep and what it finds
    "backend healthy": _("backend healthy"),
    "backend unhealthy": _("backend unhealthy"),
    "changed outside the portal": _("changed outside the portal"),
    "auto-accept changed outside the portal": _("auto-accept changed outside the portal"),
    "endpoint deleted outside the portal": _("endpoint deleted outside the portal"),
    "connection disabled outside the portal": _("connection disabled outside the portal"),
    "clean-up failed": _("clean-up failed"),
    "orphan endpoint zone removed": _("orphan endpoint zone removed"),
    "orphan endpoint deleted": _("orphan endpoint deleted"),
    "withdrew stale whitelisting": _("withdrew stale whitelisting"),
    # Composed verbs: f"health {health}", f"{workflow} failed", f"deleting {what}",
    # f"discarded {what}", f"found {what}" (spelled out: a label is a sentence, not parts).
    "health unknown": _("health unknown"),
    "health healthy": _("health healthy"),
    "health degraded": _("health degraded"),
    "health down": _("health down"),
    "publish failed": _("publish failed"),
    "retire failed": _("retire failed"),
    "configure failed": _("configure failed"),
    "provision failed": _("provision failed"),
    "connect failed": _("connect failed"),
    "revoke failed": _("revoke failed"),
    "cleanup failed": _("clean-up failed"),
    "deleting load balancer": _("deleting load balancer"),
    "deleting server group": _("deleting server group"),
    "deleting listener": _("deleting listener"),
    "deleting endpoint service": _("deleting endpoint service"),
    "discarded load balancer": _("discarded load balancer"),
    "discarded server group": _("discarded server group"),
    "discarded listener": _("discarded listener"),
    "discarded endpoint service": _("discarded endpoint service"),
    "found endpoint": _("found endpoint"),
    "found load balancer": _("found load balancer"),
    "found server group": _("found server group"),
    "found listener": _("found listener"),
    "found endpoint service": _("found endpoint service"),
}


# The details the portal's code writes as fixed phrases (each also marked with gettext_noop where
# it is written): these are translated on the pages; every other detail is data, shown as written.
DETAIL_PHRASES = frozenset(
    {
        gettext_noop("the service accepts every endpoint"),
        gettext_noop("endpoint ready"),
        gettext_noop("endpoint gone"),
        gettext_noop("load balancer, listener and endpoint service ready"),
        gettext_noop("the work has started"),
        # As services published before their words changed still say.
        gettext_noop("steps 1–4 done"),
        gettext_noop("after an earlier failure"),
        gettext_noop("everything torn down"),
        gettext_noop("service retired"),
        gettext_noop("forced"),
        gettext_noop("every check passes"),
        gettext_noop("on"),
        gettext_noop("off"),
    }
)


def verb_label(verb: str) -> str:
    """The verb as the pages say it; one without a label as stored."""
    label = VERB_LABELS.get(verb)
    return str(label) if label is not None else verb


def detail_label(detail: str) -> str:
    """A detail as the pages say it: the portal's fixed phrases translated (each marked with
    gettext_noop where it is written), anything else (data) as written."""
    return gettext(detail) if detail in DETAIL_PHRASES else detail
