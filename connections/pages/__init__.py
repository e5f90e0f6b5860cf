"""The portal in the browser: server-rendered pages with htmx, over the same verbs, policies,
querysets and checks as the REST API (connections/api/). One view, two renders: a full page, or
for htmx the partial it includes (templates/connections/partials/)."""
