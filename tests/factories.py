"""factory_boy factories for the domain, with deterministic data."""

import factory
from django.contrib.auth import get_user_model

from connections.choices import Role, ServiceState
from connections.models import (
    AccessRequest,
    CloudAccount,
    Instance,
    Membership,
    PublishedService,
    SecurityGroup,
    ServiceZone,
    Team,
    Vpc,
    VSwitch,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class CloudAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CloudAccount

    name = factory.Sequence(lambda n: f"Account {n}")
    uid = factory.Sequence(lambda n: f"{n:016d}")
    access_key_id = factory.Sequence(lambda n: f"key-{n}")
    access_key_secret = "not-a-real-secret"


class VpcFactory(factory.django.DjangoModelFactory):
    """A VPC; pass `team` to give it an owner (by default nobody owns it)."""

    class Meta:
        model = Vpc

    account = factory.SubFactory(CloudAccountFactory)
    vpc_id = factory.Sequence(lambda n: f"vpc-test{n:06d}")
    name = factory.Sequence(lambda n: f"VPC{n}")
    cidr = "10.0.0.0/8"


class VSwitchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VSwitch

    vpc = factory.SubFactory(VpcFactory)
    vswitch_id = factory.Sequence(lambda n: f"vsw-test{n:06d}")
    zone_id = "cn-hangzhou-g"
    cidr = factory.Sequence(lambda n: f"10.0.{n % 250}.0/24")


class SecurityGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SecurityGroup

    vpc = factory.SubFactory(VpcFactory)
    security_group_id = factory.Sequence(lambda n: f"sg-test{n:06d}")
    name = factory.Sequence(lambda n: f"sg-{n}")


class InstanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Instance

    vpc = factory.SubFactory(VpcFactory)
    instance_id = factory.Sequence(lambda n: f"i-test{n:06d}")
    name = factory.Sequence(lambda n: f"ECS{n:02d}")
    zone_id = "cn-hangzhou-g"
    private_ip = factory.Sequence(lambda n: f"192.168.2.{n % 250}")


class PublishedServiceFactory(factory.django.DjangoModelFactory):
    """An available service in zones G and K (as the seed's), in a VPC of its owner team,
    without a cloud behind it."""

    class Meta:
        model = PublishedService
        skip_postgeneration_save = True

    owner_team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"service-{n}")
    vpc = factory.SubFactory(VpcFactory, team=factory.SelfAttribute("..owner_team"))
    account = factory.SelfAttribute("vpc.account")
    listener_port = 80
    state = ServiceState.AVAILABLE
    endpoint_service_id = factory.Sequence(lambda n: f"epsrv-test{n:06d}")

    @factory.post_generation
    def zone_ids(self, create, extracted, **kwargs):
        if not create:
            return
        for zone_id in extracted or ["cn-hangzhou-g", "cn-hangzhou-k"]:
            ServiceZone.objects.create(
                service=self, zone_id=zone_id, vswitch=VSwitchFactory(vpc=self.vpc, zone_id=zone_id)
            )


class AccessRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessRequest

    service = factory.SubFactory(PublishedServiceFactory)
    consumer_team = factory.SubFactory(TeamFactory)
    vpc = factory.SubFactory(VpcFactory)
    justification = "tests"
