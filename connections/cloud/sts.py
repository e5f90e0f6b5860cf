"""STS: assume a RAM role, and ask who the credentials belong to."""

from alibabacloud_sts20150401 import models
from alibabacloud_sts20150401.client import Client

from connections.cloud.base import CloudResult, ProductApi


class StsApi(ProductApi):
    client_class = Client
    models = models
    host = "sts.{region}.aliyuncs.com"
    product = "sts"

    def assume_role(self, *, role_arn: str, session_name: str, duration_seconds: int) -> dict:
        result = self.call(
            "AssumeRole",
            RoleArn=role_arn,
            RoleSessionName=session_name,
            DurationSeconds=duration_seconds,
        )
        return result["Credentials"]

    def caller_identity(self) -> CloudResult:
        return self.call("GetCallerIdentity")
