"""A verb's refusal as a person sees it: its message on the page, never a 403 or a 500 page.

`attempt` runs a verb for a view: on success it flashes what happened, on a refusal (not allowed,
not possible in the current state, a failed check) the refusal's own message, and the view
redirects back either way. After a POST: HX-Redirect for htmx, a redirect otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from connections.states import InvalidTransition, LostRace

# What a refusal calls the object it refused (the models' verbose names are not translated).
THINGS = {
    "accessrequest": gettext_lazy("access request"),
    "publishedservice": gettext_lazy("published service"),
}


def refusal_message(error: Exception) -> str:
    if isinstance(error, LostRace):
        return _("Someone else changed it a moment ago: look again, and try again if needed.")
    if isinstance(error, InvalidTransition):
        obj = error.obj
        return _("Not possible now: the %(what)s is %(state)s.") % {
            "what": THINGS.get(obj._meta.model_name, obj._meta.verbose_name),
            "state": obj.get_state_display().lower(),
        }
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or _("You may not do that.")


REFUSALS = (PermissionDenied, InvalidTransition, ValidationError)


def attempt(request, verb: Callable[[], object], done: str) -> bool:
    """Run `verb`; flash `done` or the refusal. True when it went through."""
    try:
        verb()
    except REFUSALS as error:
        messages.error(request, refusal_message(error))
        return False
    messages.success(request, done)
    return True


def back_to(request, url: str) -> HttpResponse:
    """The answer to a POST: the page at `url`, reloaded."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)
