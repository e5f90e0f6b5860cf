"""The health sweep and what it needs: `sweep` reads every account and judges every service and
connected request, by the rules in `rules`, with the data-plane probe of `probes`; `findings`
records what the cloud holds that the portal does not account for, `provider_drift` what was
changed on the provider's side outside the portal."""
