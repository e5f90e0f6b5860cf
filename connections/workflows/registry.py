"""Every workflow by its name, and the one that carries each in-flight state on.

Which workflow that is for each state is written once, in `connections.choices`
(SERVICE_WORKFLOWS, REQUEST_WORKFLOWS); this module only puts the workflow objects to the names.
"""

from connections.choices import REQUEST_WORKFLOWS, SERVICE_WORKFLOWS
from connections.models import AccessRequest, PublishedService
from connections.workflows.access import CLEANUP, CONNECT, PROVISION, REVOKE
from connections.workflows.runner import Workflow
from connections.workflows.service import CONFIGURE, PUBLISH, RETIRE

WORKFLOWS: dict[str, Workflow] = {
    workflow.name: workflow
    for workflow in (PUBLISH, CONFIGURE, RETIRE, PROVISION, CONNECT, REVOKE, CLEANUP)
}

# The tasks that run workflows' hops: how workflows/holders.py tells a chain's message.
TASK_NAMES = frozenset(workflow.task_name for workflow in WORKFLOWS.values())

# (model, state) → the workflow a record in that state is carried on by.
IN_FLIGHT: dict[tuple[type, str], Workflow] = {
    **{(PublishedService, state): WORKFLOWS[name] for state, name in SERVICE_WORKFLOWS.items()},
    **{(AccessRequest, state): WORKFLOWS[name] for state, name in REQUEST_WORKFLOWS.items()},
}
