"""VPCs belong to teams (no longer: every team of the account uses every VPC of the account).

Existing VPCs are assigned where the old rows leave no doubt: a VPC that only one team has used
(its services and requests) goes to that team, and an unused VPC of an account that only one team
could use goes to that team. Every other VPC stays unassigned, usable by platform admins only
until one assigns it (Django admin → VPCs, or a team tag: INVENTORY_TEAM_TAG); the migration
lists them. Requests and services already recorded keep working: the workers never check
ownership; only new publishes and requests do.
"""

import django.db.models.deletion
from django.db import migrations, models


def assign_owners(apps, schema_editor):
    Vpc = apps.get_model("connections", "Vpc")
    unassigned = []
    for vpc in Vpc.objects.select_related("account").order_by("vpc_id"):
        users = set(vpc.services.values_list("owner_team_id", flat=True))
        users |= set(vpc.access_requests.values_list("consumer_team_id", flat=True))
        account_teams = set(vpc.account.teams.values_list("pk", flat=True))
        if len(users) == 1:
            vpc.team_id = users.pop()
        elif not users and len(account_teams) == 1:
            vpc.team_id = account_teams.pop()
        else:
            unassigned.append(f"{vpc.vpc_id} ({vpc.name or 'no name'}, account {vpc.account.name})")
            continue
        vpc.save(update_fields=["team"])
    if unassigned:
        print(
            "\n  VPCs now belong to one team each. These could not be assigned from their history "
            "and are usable by platform admins only until one assigns them (Django admin → VPCs, "
            "or the INVENTORY_TEAM_TAG cloud tag):\n    " + "\n    ".join(unassigned)
        )


def restore_account_teams(apps, schema_editor):
    """Going back: every team that owns a VPC of an account may use the account again."""
    Vpc = apps.get_model("connections", "Vpc")
    for vpc in Vpc.objects.filter(team__isnull=False).select_related("account"):
        vpc.account.teams.add(vpc.team_id)


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0003_workflow_hops_and_protected_events"),
    ]

    operations = [
        migrations.AddField(
            model_name="vpc",
            name="team",
            field=models.ForeignKey(
                blank=True,
                help_text="The team that uses this VPC and what is in it. Empty: platform admins only.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="vpcs",
                to="connections.team",
            ),
        ),
        migrations.RunPython(assign_owners, restore_account_teams),
        migrations.RemoveField(model_name="cloudaccount", name="teams"),
        migrations.AddField(
            model_name="accessrequest",
            name="task_deliveries",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="publishedservice",
            name="task_deliveries",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="accessrequest",
            name="withdrawing_whitelist_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
