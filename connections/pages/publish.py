"""The publish wizard (seed steps 1–4), for owners: the VPC, the NLB's zones, the backends, the
listener and who may connect, each step checked before the next, then a review; publishing
hands the work to a worker and shows the service's page, where the steps go live.

django-formtools keeps the steps' answers in the session, so back, refresh and a step's errors
all work without JavaScript; leaving and coming back finds the draft where it was left
(`?new` starts another).
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from formtools.wizard.views import SessionWizardView

from connections import actions, policies, preflight
from connections.pages import forms, live
from connections.pages.refusals import REFUSALS, refusal_message

STEPS = [
    ("basics", forms.PublishBasicsForm, gettext_lazy("Service and VPC")),
    ("zones", forms.PublishZonesForm, gettext_lazy("Zones")),
    ("backends", forms.PublishBackendsForm, gettext_lazy("Backends")),
    ("listener", forms.PublishListenerForm, gettext_lazy("Listener and access")),
    ("review", forms.PublishReviewForm, gettext_lazy("Review")),
]


@method_decorator(live.page(), name="dispatch")
class PublishWizard(SessionWizardView):
    form_list = [(name, form) for name, form, _title in STEPS]
    template_name = "connections/publishedservice_publish.html"

    def dispatch(self, request, *args, **kwargs):
        if not policies.publishes_for_some_team(request.user):
            context = {"nav": "publish", "reason": _("Only owners of a team publish services.")}
            return render(request, "connections/forbidden.html", context, status=403)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self, step=None) -> dict:
        if step == "basics":
            return {"user": self.request.user}
        if step in ("zones", "backends"):
            return {"vpc": self._basics().get("vpc")}
        if step == "listener":
            return {"owner_team": self._basics().get("team")}
        if step == "review":
            return {"problems": self._problems()}
        return {}

    def get(self, request, *args, **kwargs):
        """Back to the wizard: the draft where it was left (formtools would start over), unless
        the person asks for a new one."""
        if "new" in request.GET or not self.storage.data.get(self.storage.step_data_key):
            return super().get(request, *args, **kwargs)
        self.draft = True
        return self.render_goto_step(self.steps.current)

    def _basics(self) -> dict:
        return self.get_cleaned_data_for_step("basics") or {}

    def arguments(self) -> dict:
        """The verb's arguments from every step's answers."""
        basics = self._basics()
        listener = self.get_cleaned_data_for_step("listener") or {}
        return {
            "team": basics.get("team"),
            "name": basics.get("name", ""),
            "description": basics.get("description", ""),
            "vpc": basics.get("vpc"),
            "zones": (self.get_cleaned_data_for_step("zones") or {}).get("zones", []),
            "backends": (self.get_cleaned_data_for_step("backends") or {}).get("backends", []),
            "listener_protocol": listener.get("protocol", "TCP"),
            "listener_port": listener.get("port") or 0,
            "auto_accept": listener.get("auto_accept", False),
            "trusted_teams": list(listener.get("trusted_teams") or []),
            "connection_limit": listener.get("connection_limit"),
        }

    def get_context_data(self, form, **kwargs) -> dict:
        context = super().get_context_data(form=form, **kwargs)
        current = self.steps.current
        context.update(
            nav="publish",
            step_titles=[
                (title, "current" if name == current else "") for name, _form, title in STEPS
            ],
            step_title=dict((name, title) for name, _form, title in STEPS)[current],
        )
        context["draft"] = getattr(self, "draft", False)
        if current == "review":
            context["summary"] = self.arguments()
        return context

    def _problems(self) -> list[str]:
        """Everything the verb will check, run once more on the whole (nothing else changed?)."""
        arguments = self.arguments()
        if arguments["team"] is None or arguments["vpc"] is None:
            # The first step's answers are gone or no longer hold (say, the name was taken).
            return [_("The first step's answers no longer hold: go back to step 1.")]
        found = preflight.publish_problems(
            self.request.user,
            **{
                key: arguments[key]
                for key in (
                    "team",
                    "name",
                    "vpc",
                    "zones",
                    "backends",
                    "listener_port",
                    "listener_protocol",
                    "connection_limit",
                )
            },
        )
        return [
            message for errors in found.errors.values() for e in errors for message in e.messages
        ]

    def done(self, form_list, **kwargs):
        try:
            service = actions.publish_service(self.request.user, **self.arguments())
        except REFUSALS as error:
            messages.error(self.request, refusal_message(error))
            return redirect("connections:service_publish")
        messages.success(
            self.request,
            _(
                "Publishing %(name)s: its load balancer, server group, listener and endpoint "
                "service are being built; this page follows them."
            )
            % {"name": service.name},
        )
        return redirect("connections:service_detail", pk=service.pk)
