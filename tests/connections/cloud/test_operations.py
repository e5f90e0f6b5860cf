"""The portal's table of cloud operations (connections/cloud/operations.py) against what Alibaba
documents, not against what its authors believed: the OpenAPI metadata's codes per operation
(kept in cloudsim/metadata, with their sources) and the official SDK's models."""

import ast
import importlib
import re

import pytest

from cloudsim import metadata
from cloudsim.contract import SDK_MODELS, model_fields
from connections.cloud import CloudBusy, CloudNotFound, RetryableCloudError
from connections.cloud.base import ProductApi
from connections.cloud.errors import AUTH_CODES, RETRYABLE_CODES, translate
from connections.cloud.operations import BY_NAME, GUIDANCE, OPERATIONS
from tests.conftest import ROOT


def documented_for(product: str, name: str, code: str) -> bool:
    """Whether the metadata (or the gateway's codes, or another named source) lists `code` for
    the operation, with any HTTP status."""
    return any(
        metadata.documented_error(product, name, status, code)
        for status in (400, 403, 404, 500, 503)
    )


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.ram_action)
def test_every_code_the_portal_acts_on_is_one_the_cloud_documents_for_that_operation(operation):
    spelled = operation.retry | operation.busy | operation.gone
    undocumented = sorted(c for c in spelled if not documented_for(*_names(operation), c))
    assert not undocumented, f"{operation.ram_action} acts on undocumented codes {undocumented}"


def _names(operation) -> tuple[str, str]:
    return operation.product, operation.name


def test_every_operation_the_portal_calls_exists_in_the_metadata_and_the_sdk():
    for operation in OPERATIONS:
        known = metadata.operation(operation.product, operation.name)
        assert (
            known["required"]
            or known["errors"]
            or operation.name
            in (
                "ListVpcEndpoints",
                "ListVpcEndpointServices",
                "ListVpcEndpointServicesByEndUser",
            )
        ), f"{operation.ram_action} is not in cloudsim/metadata"
        models = importlib.import_module(SDK_MODELS[operation.product])
        assert hasattr(models, f"{operation.name}ResponseBody"), operation.ram_action


def test_the_codes_every_operation_shares_are_documented_somewhere():
    # Gateway codes (cloudsim/metadata/common.json) or a product's own on most operations.
    nlb_busy = metadata.documented_error("nlb", "CreateListener", 400, "SystemBusy")
    assert nlb_busy
    for code in AUTH_CODES - {"InvalidCredentials", "Forbidden.AccessDenied", "Forbidden"}:
        assert any(documented_for(op.product, op.name, code) for op in OPERATIONS), (
            f"{code} is documented nowhere"
        )
    for code in RETRYABLE_CODES:
        assert any(documented_for(op.product, op.name, code) for op in OPERATIONS), code


def test_guidance_is_given_for_codes_the_cloud_answers():
    for code in GUIDANCE:
        assert any(documented_for(op.product, op.name, code) for op in OPERATIONS) or any(
            documented_for("nlb", name, code) for name in ("DeleteLoadBalancer",)
        ), f"guidance for {code}, which no operation the portal calls documents"


def refusal(code: str, status: int = 400, **extra):
    """What the SDK raises when the cloud refuses a call with `code`."""
    from alibabacloud_tea_openapi.exceptions import ClientException

    data = {"Code": code, "Message": "refused", **extra}
    return ClientException(
        code=code, message="refused", data=data, status_code=status, request_id="r"
    )


def test_codes_mean_what_the_table_says():
    remove_zone = BY_NAME[("privatelink", "RemoveZoneFromVpcEndpoint")]
    enable = BY_NAME[("privatelink", "EnableVpcEndpointConnection")]
    assert isinstance(translate(refusal("ConcurrentCallNotSupported"), enable), CloudBusy)
    assert isinstance(
        translate(refusal("EndpointOperationDenied"), remove_zone), RetryableCloudError
    )
    assert isinstance(translate(refusal("EndpointZoneNotFound"), remove_zone), CloudNotFound)
    # The same code on an operation that does not list it is no "not found".
    assert not isinstance(translate(refusal("EndpointZoneNotFound"), enable), CloudNotFound)
    detail = {"AuthAction": "privatelink:EnableVpcEndpointConnection"}
    denied = translate(refusal("Forbidden.RAM", 403, AccessDeniedDetail=detail), enable)
    assert "does not allow privatelink:EnableVpcEndpointConnection" in denied.message


# --- the fields the portal reads -------------------------------------------------------------


def fields_the_models_declare() -> set[str]:
    """Every wire key, at any depth, of the answers of the operations the portal calls."""
    seen, keys = set(), set()

    def walk(model):
        if model in seen:
            return
        seen.add(model)
        for key, field in model_fields(model).items():
            keys.add(key)
            for inner in (field.annotation, *getattr(field.annotation, "__args__", ())):
                if isinstance(inner, type) and hasattr(inner, "from_map"):
                    walk(inner)

    for operation in OPERATIONS:
        models = importlib.import_module(SDK_MODELS[operation.product])
        walk(getattr(models, f"{operation.name}ResponseBody"))
    return keys


# A cloud field read by the portal: `x.get("CamelCase")` or `x["CamelCase"]` (the portal's own
# dictionaries use snake_case keys).
FIELD_READ = re.compile(r"""(?:\.get\(|(?<=[\w\)\]])\[)\s*["']([A-Z][A-Za-z0-9]+)["']""")
# Keys the portal reads that are not a response's: request parameters it builds, the cloud's
# error body, and its own tags.
NOT_RESPONSE_FIELDS = {
    "Code", "Message", "RequestId", "AccessDeniedDetail", "AuthAction",  # error bodies
    "DryRun",  # a request parameter the permission checks set
    "Location",  # an HTTP header of the portal's own answers
    "ECS03",  # the demo's instance names (connections/demo.py)
}  # fmt: skip


def test_the_portal_reads_no_field_the_sdk_models_lack():
    declared = fields_the_models_declare()
    read: dict[str, list[str]] = {}
    for path in (ROOT / "connections").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for key in FIELD_READ.findall(path.read_text()):
            read.setdefault(key, []).append(path.relative_to(ROOT).as_posix())
    unknown = {
        key: sorted(set(paths))
        for key, paths in read.items()
        if key not in declared and key not in NOT_RESPONSE_FIELDS
    }
    assert not unknown, f"fields no response model declares: {unknown}"
    assert {"EndpointStatus", "ConnectionStatus", "ZoneStatus", "NonNormalServers"} <= set(read)


def test_only_the_cloud_adapter_calls_operations_and_only_listed_ones():
    called = set()
    for path in (ROOT / "connections").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("call", "pages", "tagged_ids")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                assert path.parent.name == "cloud", f"{path} calls {node.args[0].value}"
                called.add(node.args[0].value)
    listed = {op.name for op in OPERATIONS}
    assert called <= listed, f"called but not in operations.py: {called - listed}"
    # Everything listed is called somewhere (nothing granted by the RAM policies for nothing),
    # the permission checks aside.
    unused = listed - called - {"AssumeRole", "GetCallerIdentity", "CheckProductOpen"}
    assert not unused - {"DescribeZones", "DescribeVpcs", "DescribeVSwitches", "DescribeInstances",
                         "DescribeSecurityGroups"}, unused  # fmt: skip


def test_a_call_outside_the_table_is_refused():
    api = ProductApi.__new__(ProductApi)
    api.product = "nlb"
    with pytest.raises(KeyError):
        api.call("StopListener", ListenerId="lsn-x")
