"""The person's own page: the time zone and language the portal uses for them."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from connections.models import Profile
from connections.pages import preferences


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["time_zone", "language"]
        labels = {"time_zone": gettext_lazy("Time zone"), "language": gettext_lazy("Language")}

    def __init__(self, *args, browser_zone: str, **kwargs):
        super().__init__(*args, **kwargs)
        browser = browser_zone or settings.TIME_ZONE
        self.fields["time_zone"] = forms.ChoiceField(
            label=_("Time zone"),
            required=False,
            choices=[
                ("", _("My browser's (%(zone)s)") % {"zone": browser}),
                *((name, name) for name in sorted(preferences.known_time_zones())),
            ],
            help_text=_("The pages show every time in it, and read the times you type in it."),
            # The tz database's names are data: a browser's translator must leave them.
            widget=forms.Select(attrs={"translate": "no"}),
        )
        self.fields["language"] = forms.ChoiceField(
            label=_("Language"),
            required=False,
            choices=[("", _("My browser's")), *settings.LANGUAGES],
        )


@login_required
def profile(request):
    mine = Profile.objects.filter(user=request.user).first() or Profile(user=request.user)
    form = ProfileForm(
        request.POST or None, instance=mine, browser_zone=preferences.browser_zone(request)
    )
    if request.method == "POST" and form.is_valid():
        preferences.remember(request.session, form.save())
        messages.success(request, _("Saved: the pages use these from now on."))
        return redirect("connections:profile")
    return render(
        request,
        "connections/profile.html",
        {"form": form, "now": timezone.now(), "nav": "profile"},
    )
