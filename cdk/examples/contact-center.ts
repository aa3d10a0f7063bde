/**
 * A first contact-center stack: the provider, one agent whose password is in Secrets Manager, and a roster kept in
 * Connect's bulk-upload CSV. examples/contact_center.py is the same stack in Python; the Python test synthesizes
 * both and finds the same template (docs/cdk.md shows them side by side).
 */
import { App, CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ConnectUser, ConnectUserProvider, ConnectUserSet, PhoneType, RosterSource } from '../lib';

export interface ContactCenterProps extends StackProps {
  /** The zip `make build` wrote (with its `bootstrap.arch` beside it). */
  readonly codePath: string;
  /** A roster in Connect's bulk-upload CSV. */
  readonly rosterFile: string;
  readonly instanceId: string;
  readonly routingProfileId: string;
  readonly agentSecurityProfileId: string;
}

export class ContactCenterStack extends Stack {
  constructor(scope: Construct, id: string, props: ContactCenterProps) {
    super(scope, id, props);
    const provider = new ConnectUserProvider(this, 'Provider', { codePath: props.codePath, connectInstanceId: props.instanceId });
    const password = new secretsmanager.Secret(this, 'AgentPassword', {
      generateSecretString: { secretStringTemplate: '{}', generateStringKey: 'password', passwordLength: 20 },
    });
    const agent = new ConnectUser(this, 'Agent', {
      provider,
      instanceId: props.instanceId,
      name: 'jdoe',
      passwordSecret: password,
      passwordSecretKey: 'password',
      routingProfileId: props.routingProfileId,
      securityProfileIds: [props.agentSecurityProfileId],
      identityInfo: { firstName: 'Jane', lastName: 'Doe' },
      phoneConfig: { phoneType: PhoneType.SOFT_PHONE, afterContactWorkTimeLimit: 0 },
    });
    const roster = new ConnectUserSet(this, 'Agents', {
      provider,
      instanceId: props.instanceId,
      source: RosterSource.fromFile(props.rosterFile),
      defaults: { routingProfileId: props.routingProfileId, securityProfileIds: [props.agentSecurityProfileId] },
      maxDeletions: 25,
    });
    new CfnOutput(this, 'AgentArn', { value: agent.attrArn });
    new CfnOutput(this, 'RosterSize', { value: roster.attrTotal });
  }
}

// node build/examples/contact-center.js ZIP CSV: prints the synthesized template (JSON).
if (require.main === module) {
  const [codePath, rosterFile] = process.argv.slice(2);
  const app = new App({ outdir: process.env.CDK_OUTDIR });
  const stack = new ContactCenterStack(app, 'ContactCenter', {
    env: { account: '123456789012', region: 'us-east-1' },
    codePath,
    rosterFile,
    instanceId: 'inst-1',
    routingProfileId: 'rp-1',
    agentSecurityProfileId: 'sp-agent',
  });
  process.stdout.write(JSON.stringify(app.synth().getStackByName(stack.stackName).template));
}
