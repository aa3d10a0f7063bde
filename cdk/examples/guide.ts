/**
 * The four users of the original Pulumi aws.connect.User guide, as a CDK app:
 * soft phone; hierarchy group; Email and SecondaryEmail; two security profiles with a desk phone.
 */
import { App, CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ConnectUser, ConnectUserProvider, PhoneType } from '../lib';

export interface GuideProps extends StackProps {
  readonly codePath?: string;
  readonly instanceId: string;
  readonly routingProfileId: string;
  readonly agentSecurityProfileId: string;
  readonly managerSecurityProfileId: string;
  readonly hierarchyGroupId: string;
}

export class GuideStack extends Stack {
  constructor(scope: Construct, id: string, props: GuideProps) {
    super(scope, id, props);
    const provider = new ConnectUserProvider(this, 'Provider', { codePath: props.codePath, connectInstanceId: props.instanceId });
    const password = new secretsmanager.Secret(this, 'AgentPassword', {
      generateSecretString: { secretStringTemplate: '{}', generateStringKey: 'password', passwordLength: 20, excludePunctuation: true, requireEachIncludedType: true },
    });
    const common = {
      provider,
      instanceId: props.instanceId,
      passwordSecret: password,
      passwordSecretKey: 'password',
      routingProfileId: props.routingProfileId,
    };
    const softPhone = new ConnectUser(this, 'SoftPhoneUser', {
      ...common,
      name: 'example',
      securityProfileIds: [props.agentSecurityProfileId],
      identityInfo: { firstName: 'example', lastName: 'example2' },
      phoneConfig: { afterContactWorkTimeLimit: 0, phoneType: PhoneType.SOFT_PHONE },
    });
    new ConnectUser(this, 'HierarchyGroupUser', {
      ...common,
      name: 'example-hierarchy',
      hierarchyGroupId: props.hierarchyGroupId,
      securityProfileIds: [props.agentSecurityProfileId],
      identityInfo: { firstName: 'example', lastName: 'example2' },
      phoneConfig: { afterContactWorkTimeLimit: 0, phoneType: PhoneType.SOFT_PHONE },
    });
    new ConnectUser(this, 'EmailUser', {
      ...common,
      name: 'example-email',
      securityProfileIds: [props.agentSecurityProfileId],
      identityInfo: { email: 'example@example.com', firstName: 'example', lastName: 'example2', secondaryEmail: 'secondary@example.com' },
      phoneConfig: { afterContactWorkTimeLimit: 0, phoneType: PhoneType.SOFT_PHONE },
    });
    const desk = new ConnectUser(this, 'DeskPhoneUser', {
      ...common,
      name: 'example-desk',
      securityProfileIds: [props.agentSecurityProfileId, props.managerSecurityProfileId],
      identityInfo: { firstName: 'example', lastName: 'example2' },
      phoneConfig: { afterContactWorkTimeLimit: 100, autoAccept: false, deskPhoneNumber: '+112345678912', phoneType: PhoneType.DESK_PHONE },
    });
    new CfnOutput(this, 'SoftPhoneUserId', { value: softPhone.userId });
    new CfnOutput(this, 'DeskPhoneUserArn', { value: desk.arn });
  }
}

if (require.main === module) {
  const app = new App();
  new GuideStack(app, 'ConnectUsersGuide', {
    instanceId: app.node.tryGetContext('instanceId') ?? '81e84a12-ee3f-4554-ab6a-9e4e3ec9f0ca',
    routingProfileId: app.node.tryGetContext('routingProfileId') ?? 'f1478cfd-0ff1-4e4f-b73a-ffafa95f1eaf',
    agentSecurityProfileId: app.node.tryGetContext('agentSecurityProfileId') ?? '16d9d65b-eb82-419f-b3bc-80a0d32111ef',
    managerSecurityProfileId: app.node.tryGetContext('managerSecurityProfileId') ?? '5830ffcf-dcb3-423e-8d16-19cfa5bd7a92',
    hierarchyGroupId: app.node.tryGetContext('hierarchyGroupId') ?? 'fc81f9df-eb75-4f12-a8db-2aa195c5b772',
  });
  app.synth();
}
