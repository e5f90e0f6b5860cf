"""Every workflow by its name, and the one that carries each in-flight state on.

Which workflow that is for each state is written once, in `connections.states`
(SERVICE_WORKFLOWS, REQUEST_WORKFLOWS); this module only puts the workflow objects to the names.
"""

from connections.models import AccessRequest, PublishedService
from connections.states import REQUEST_WORKFLOWS, SERVICE_WORKFLOWS
from connections.workflows.definition import Workflow
from connections.workflows.provision import CONNECT, PROVISION
from connections.workflows.retire import RETIRE
from connections.workflows.service import CONFIGURE, PUBLISH
from connections.workflows.teardown import CLEANUP, REVOKE

WORKFLOWS: dict[str, Workflow] = {
    workflow.name: workflow
    for workflow in (PUBLISH, CONFIGURE, RETIRE, PROVISION, CONNECT, REVOKE, CLEANUP)
}

# The tasks that run workflows' hops, by either name, to the name of today (workflows/liveness.py
# tells a chain's message by it, and notes it held under today's name).
TASK_NAMES: dict[str, str] = {
    name: workflow.task_name
    for workflow in WORKFLOWS.values()
    for name in (workflow.task_name, workflow.former_task_name)
}

# (model, state) → the workflow a record in that state is carried on by.
IN_FLIGHT: dict[tuple[type, str], Workflow] = {
    **{(PublishedService, state): WORKFLOWS[name] for state, name in SERVICE_WORKFLOWS.items()},
    **{(AccessRequest, state): WORKFLOWS[name] for state, name in REQUEST_WORKFLOWS.items()},
}
