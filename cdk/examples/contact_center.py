"""A first contact-center stack in Python: the same stack as examples/contact-center.ts (docs/cdk.md shows both).

The provider, one agent whose password is in Secrets Manager, and a roster kept in Connect's bulk-upload CSV.
"""
import aws_cdk as cdk
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from connect_user_resource_cdk import (
    ConnectUser,
    ConnectUserProvider,
    ConnectUserSet,
    ConnectUserSetDefaults,
    IdentityInfo,
    PhoneConfig,
    PhoneType,
    RosterSource,
)


class ContactCenterStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, code_path: str, roster_file: str, instance_id: str,
                 routing_profile_id: str, agent_security_profile_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        provider = ConnectUserProvider(self, "Provider", code_path=code_path, connect_instance_id=instance_id)
        password = secretsmanager.Secret(
            self,
            "AgentPassword",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template="{}", generate_string_key="password", password_length=20
            ),
        )
        agent = ConnectUser(
            self,
            "Agent",
            provider=provider,
            instance_id=instance_id,
            name="jdoe",
            password_secret=password,
            password_secret_key="password",
            routing_profile_id=routing_profile_id,
            security_profile_ids=[agent_security_profile_id],
            identity_info=IdentityInfo(first_name="Jane", last_name="Doe"),
            phone_config=PhoneConfig(phone_type=PhoneType.SOFT_PHONE, after_contact_work_time_limit=0),
        )
        roster = ConnectUserSet(
            self,
            "Agents",
            provider=provider,
            instance_id=instance_id,
            source=RosterSource.from_file(roster_file),
            defaults=ConnectUserSetDefaults(
                routing_profile_id=routing_profile_id, security_profile_ids=[agent_security_profile_id]
            ),
            max_deletions=25,
        )
        cdk.CfnOutput(self, "AgentArn", value=agent.attr_arn)
        cdk.CfnOutput(self, "RosterSize", value=roster.attr_total)
