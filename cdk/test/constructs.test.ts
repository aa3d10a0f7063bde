import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Channel, ConnectUser, ConnectUserProvider, ConnectUserSet, PhoneType, RosterSource } from '../lib';

const { CONNECT_ACTIONS, EVENT_METRICS, SET_METRICS, STACK_ACTIONS, STATE_ACTIONS } = ConnectUserProvider;
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { GuideStack } from '../examples/guide';

/** A stand-in for the cargo-lambda zip: synthesis only needs a file to hash, and its recorded architecture. */
function fakeZip(arch: string | null = 'arm64'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cur-'));
  const file = path.join(dir, 'bootstrap.zip');
  fs.writeFileSync(file, 'not a real zip');
  if (arch !== null) {
    fs.writeFileSync(path.join(dir, 'bootstrap.arch'), `${arch}\n`);
  }
  return file;
}

function stack(): Stack {
  return new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
}

function policyStatements(template: Template): any[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

test('the provider deploys the cargo-lambda zip as template.yaml does', () => {
  const s = stack();
  new ConnectUserProvider(s, 'Provider', { codePath: fakeZip() });
  const t = Template.fromStack(s);
  t.hasResourceProperties('AWS::Lambda::Function', {
    Runtime: 'provided.al2023',
    Architectures: ['arm64'],
    Handler: 'bootstrap',
    MemorySize: 128,
    Timeout: 300,
    ReservedConcurrentExecutions: 5,
  });
});

test('the function is deployed as the architecture recorded beside its zip, and never without one', () => {
  const s = stack();
  new ConnectUserProvider(s, 'Provider', { codePath: fakeZip('x86_64') });
  Template.fromStack(s).hasResourceProperties('AWS::Lambda::Function', { Architectures: ['x86_64'] });
  assert.throws(() => new ConnectUserProvider(stack(), 'Provider', { codePath: fakeZip(null) }), /no architecture is recorded beside it .*make build/);
  assert.throws(() => new ConnectUserProvider(stack(), 'Provider', { codePath: fakeZip('riscv') }), /says "riscv", which is not arm64 or x86_64/);
});

const builtZip = path.join(__dirname, '..', '..', '..', 'target', 'lambda', 'connect-user-resource', 'bootstrap.zip');
test('the zip make build made is the default, deployed as the architecture of its binary', { skip: !fs.existsSync(builtZip) && 'no zip: make build makes it (make test does)' }, () => {
  const s = stack();
  new ConnectUserProvider(s, 'Provider');
  const recorded = fs.readFileSync(builtZip.replace(/\.zip$/, '.arch'), 'utf8').trim();
  assert.ok(['arm64', 'x86_64'].includes(recorded), recorded);
  Template.fromStack(s).hasResourceProperties('AWS::Lambda::Function', { Architectures: [recorded] });
});

test('without a codePath or serviceToken, and no zip made in this checkout, the provider says what to give', { skip: fs.existsSync(builtZip) && 'make build made the default zip' }, () => {
  assert.throws(() => new ConnectUserProvider(stack(), 'Provider'), /give codePath \(the zip 'make build' writes\) or serviceToken; the default, .*bootstrap.zip, does not exist/);
});

test('the provider policy is least privilege and matches template.yaml', () => {
  const s = stack();
  new ConnectUserProvider(s, 'Provider', { codePath: fakeZip(), connectInstanceId: 'inst-1' });
  const statements = policyStatements(Template.fromStack(s));
  const connect = statements.find((st) => st.Sid === 'ConnectUsers');
  assert.deepEqual([...connect.Action].sort(), [...CONNECT_ACTIONS].sort());
  // The partition stays a token (Ref AWS::Partition); the rest is literal.
  const resources = connect.Resource.map((r: any) => r['Fn::Join'][1].map((x: any) => (typeof x === 'string' ? x : '<partition>')).join(''));
  assert.deepEqual(resources, ['arn:<partition>:connect:us-east-1:123456789012:instance/inst-1', 'arn:<partition>:connect:us-east-1:123456789012:instance/inst-1/*']);
  for (const st of statements) {
    for (const action of [st.Action].flat()) {
      assert.ok(!String(action).includes('*'), `wildcard action ${action}`);
    }
  }
  assert.ok(!statements.some((st) => [st.Action].flat().some((a: string) => a.startsWith('secretsmanager:'))), 'no secrets access unless asked');
  const yaml = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'template.yaml'), 'utf8');
  assert.ok(!/connect:\*/.test(yaml), 'no connect:* wildcard in template.yaml');
  const fromTemplate = [...yaml.matchAll(/^\s+- (connect:\w+)\s*$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(fromTemplate, [...CONNECT_ACTIONS].sort());
});

test('the provider keeps its state in a table of its own, as template.yaml does', () => {
  const s = stack();
  const provider = new ConnectUserProvider(s, 'Provider', { codePath: fakeZip() });
  const t = Template.fromStack(s);
  t.hasResource('AWS::DynamoDB::Table', {
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      TimeToLiveSpecification: { AttributeName: 'expires', Enabled: true },
    },
  });
  const tableId = s.getLogicalId(provider.stateTable!.node.defaultChild as any);
  t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { STATE_TABLE: { Ref: tableId } } } });
  const state = policyStatements(t).find((st) => st.Sid === 'StateTable');
  assert.deepEqual([state.Action].flat().sort(), [...STATE_ACTIONS].sort());
  assert.deepEqual([state.Resource].flat(), [{ 'Fn::GetAtt': [tableId, 'Arn'] }], 'its own table only');
  const yaml = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'template.yaml'), 'utf8');
  const fromTemplate = [...yaml.matchAll(/^\s+- (dynamodb:\w+)\s*$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(fromTemplate, [...STATE_ACTIONS].sort());
});

test('the provider may read its stacks status, as template.yaml allows, and nothing more of CloudFormation', () => {
  const s = stack();
  new ConnectUserProvider(s, 'Provider', { codePath: fakeZip() });
  const t = Template.fromStack(s);
  const st = policyStatements(t).find((x) => x.Sid === 'StackStatus');
  assert.deepEqual([st.Action].flat(), [...STACK_ACTIONS]);
  const resource = JSON.stringify(st.Resource);
  assert.ok(resource.includes(':cloudformation:') && resource.includes(':stack/*'), resource);
  const yaml = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'template.yaml'), 'utf8');
  const fromTemplate = [...yaml.matchAll(/^\s+- (cloudformation:\w+)\s*$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(fromTemplate, [...STACK_ACTIONS].sort());
});

test('a user synthesizes PascalCase properties with string values', () => {
  const s = stack();
  const provider = new ConnectUserProvider(s, 'Provider', { codePath: fakeZip() });
  const user = new ConnectUser(s, 'Agent', {
    provider,
    instanceId: 'inst-1',
    name: 'jdoe',
    password: 'Passw0rdExample',
    routingProfileId: 'rp-1',
    securityProfileIds: ['sp-1', 'sp-2'],
    identityInfo: { firstName: 'John', email: 'jdoe@example.com' },
    phoneConfig: { phoneType: PhoneType.DESK_PHONE, deskPhoneNumber: '+14155550100', autoAccept: false, afterContactWorkTimeLimit: 0 },
    autoAcceptConfigs: [{ channel: Channel.CHAT, autoAccept: true }],
    userProficiencies: [{ attributeName: 'Language', attributeValue: 'English', level: 3 }],
    tags: { team: 'blue' },
    serviceTimeout: Duration.seconds(900),
  });
  const t = Template.fromStack(s);
  t.hasResourceProperties('Custom::ConnectUser', {
    ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('ProviderFunction'), 'Arn'] },
    ServiceTimeout: '900',
    InstanceId: 'inst-1',
    Name: 'jdoe',
    RoutingProfileId: 'rp-1',
    SecurityProfileIds: ['sp-1', 'sp-2'],
    IdentityInfo: { FirstName: 'John', Email: 'jdoe@example.com' },
    PhoneConfig: { PhoneType: 'DESK_PHONE', DeskPhoneNumber: '+14155550100', AutoAccept: 'false', AfterContactWorkTimeLimit: '0' },
    AutoAcceptConfigs: [{ Channel: 'CHAT', AutoAccept: 'true' }],
    UserProficiencies: [{ AttributeName: 'Language', AttributeValue: 'English', Level: '3' }],
    Tags: { team: 'blue' },
  });
  assert.deepEqual(s.resolve(user.attrUserId), { 'Fn::GetAtt': [s.getLogicalId(user.resource.node.defaultChild as any), 'UserId'] });
  assert.deepEqual(s.resolve(user.arn), { 'Fn::GetAtt': [s.getLogicalId(user.resource.node.defaultChild as any), 'Arn'] });
});

test('a password secret passes the ARN, never the value, and grants GetSecretValue on it only', () => {
  const s = stack();
  const provider = new ConnectUserProvider(s, 'Provider', { codePath: fakeZip() });
  const secret = new secretsmanager.Secret(s, 'Pw', { generateSecretString: { passwordLength: 20 } });
  new ConnectUser(s, 'Agent', {
    provider, instanceId: 'inst-1', name: 'jdoe', passwordSecret: secret, passwordSecretKey: 'password',
    routingProfileId: 'rp-1', securityProfileIds: ['sp-1'],
  });
  const t = Template.fromStack(s);
  const secretId = s.getLogicalId(secret.node.defaultChild as any);
  t.hasResourceProperties('Custom::ConnectUser', { PasswordSecretId: { Ref: secretId }, PasswordSecretKey: 'password', Password: Match.absent() });
  const read = policyStatements(t).filter((st) => [st.Action].flat().includes('secretsmanager:GetSecretValue'));
  assert.equal(read.length, 1);
  assert.deepEqual(read[0].Action, 'secretsmanager:GetSecretValue');
  assert.deepEqual(read[0].Resource, { Ref: secretId });
});

test('an imported user carries ImportId and needs no password', () => {
  const s = stack();
  new ConnectUser(s, 'Legacy', {
    serviceToken: 'arn:aws:lambda:us-east-1:123456789012:function:x',
    instanceId: 'inst-1',
    name: 'legacy.agent',
    importId: 'inst-1:user-1',
    routingProfileId: 'rp-1',
    securityProfileIds: ['sp-1'],
  });
  const props = Object.values(Template.fromStack(s).findResources('Custom::ConnectUser'))[0].Properties;
  assert.equal(props.ImportId, 'inst-1:user-1');
  assert.equal(props.Password, undefined);
  assert.equal(props.PasswordSecretId, undefined);
});

test('an existing service token creates no function', () => {
  const s = stack();
  const provider = new ConnectUserProvider(s, 'Provider', { serviceToken: 'arn:aws:lambda:us-east-1:123456789012:function:x' });
  new ConnectUser(s, 'Agent', { provider, instanceId: 'i', name: 'n', password: 'Passw0rdExample', routingProfileId: 'r', securityProfileIds: ['s'] });
  const t = Template.fromStack(s);
  t.resourceCountIs('AWS::Lambda::Function', 0);
  t.hasResourceProperties('Custom::ConnectUser', { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:x' });
});

test('contradictory props are refused at synth time', () => {
  const s = stack();
  const secret = new secretsmanager.Secret(s, 'Pw');
  assert.throws(() => new ConnectUser(s, 'A', { serviceToken: 't', instanceId: 'i', name: 'n', password: 'Passw0rdExample', passwordSecret: secret, routingProfileId: 'r', securityProfileIds: ['s'] }), /either password or passwordSecret/);
  assert.throws(() => new ConnectUser(s, 'B', { instanceId: 'i', name: 'n', routingProfileId: 'r', securityProfileIds: ['s'] }), /provider or a serviceToken/);
});

test('the example app reproduces the four situations of the Pulumi guide', () => {
  const app = new App();
  const guide = new GuideStack(app, 'Guide', {
    codePath: fakeZip(), instanceId: 'inst-1', routingProfileId: 'rp-1', agentSecurityProfileId: 'sp-agent',
    managerSecurityProfileId: 'sp-manager', hierarchyGroupId: 'hg-1', env: { account: '123456789012', region: 'us-east-1' },
  });
  const t = Template.fromStack(guide);
  t.resourceCountIs('Custom::ConnectUser', 4);
  t.hasResourceProperties('Custom::ConnectUser', { Name: 'example', PhoneConfig: { PhoneType: 'SOFT_PHONE', AfterContactWorkTimeLimit: '0' } });
  t.hasResourceProperties('Custom::ConnectUser', { Name: 'example-hierarchy', HierarchyGroupId: 'hg-1' });
  t.hasResourceProperties('Custom::ConnectUser', { Name: 'example-email', IdentityInfo: Match.objectLike({ SecondaryEmail: 'secondary@example.com' }) });
  t.hasResourceProperties('Custom::ConnectUser', {
    Name: 'example-desk',
    SecurityProfileIds: ['sp-agent', 'sp-manager'],
    PhoneConfig: { PhoneType: 'DESK_PHONE', AutoAccept: 'false', AfterContactWorkTimeLimit: '100', DeskPhoneNumber: '+112345678912' },
  });
  assert.ok(!JSON.stringify(t.toJSON()).includes('"Password"'), 'no plain password in the template');
});

test('the provider may continue a long roster in a new invocation of itself, and only that, without async retries', () => {
  const s = stack();
  const provider = new ConnectUserProvider(s, 'Provider', { codePath: fakeZip() });
  const t = Template.fromStack(s);
  t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 3600, Qualifier: '$LATEST' });
  const lambda = policyStatements(t).filter((st) => [st.Action].flat().some((a: string) => a.startsWith('lambda:')));
  assert.equal(lambda.length, 1, 'nothing of Lambda but invoking itself');
  const invoke = lambda.filter((st) => [st.Action].flat().includes('lambda:InvokeFunction'));
  assert.deepEqual([invoke[0].Action].flat(), ['lambda:InvokeFunction']);
  const fnId = s.getLogicalId(provider.function!.node.defaultChild as any);
  assert.deepEqual(invoke[0].Resource[0], { 'Fn::GetAtt': [fnId, 'Arn'] }, 'its own ARN only');
  // The function does not depend on that policy (no circular dependency).
  const fn = t.findResources('AWS::Lambda::Function')[fnId];
  const policies = Object.keys(t.findResources('AWS::IAM::Policy'));
  const continuePolicy = policies.find((id) => id.includes('ContinuePolicy'))!;
  assert.ok(!(fn.DependsOn ?? []).includes(continuePolicy));
});

test('a roster is one Custom::ConnectUserSet with typed entries, defaults and a secret of passwords', () => {
  const s = stack();
  const provider = new ConnectUserProvider(s, 'Provider', { codePath: fakeZip() });
  const passwords = new secretsmanager.Secret(s, 'Passwords');
  const set = new ConnectUserSet(s, 'Agents', {
    provider,
    instanceId: 'inst-1',
    defaults: { routingProfileId: 'rp-1', securityProfileIds: ['sp-1'], phoneConfig: { afterContactWorkTimeLimit: 30 } },
    users: [
      { name: 'ana', identityInfo: { firstName: 'Ana', email: 'ana@example.com' } },
      { name: 'ben', routingProfileId: 'rp-2', securityProfileIds: ['sp-1'], importId: 'inst-1:u-ben' },
    ],
    passwordSecret: passwords,
    passwordSecretKey: 'agents',
    requestsPerSecond: 2,
    burst: 5,
  });
  const t = Template.fromStack(s);
  t.hasResource('Custom::ConnectUserSet', {
    Properties: {
      ServiceToken: Match.anyValue(),
      ServiceTimeout: '3600',
      InstanceId: 'inst-1',
      Defaults: { RoutingProfileId: 'rp-1', SecurityProfileIds: ['sp-1'], PhoneConfig: { AfterContactWorkTimeLimit: '30' } },
      Users: [
        { Name: 'ana', IdentityInfo: { FirstName: 'Ana', Email: 'ana@example.com' } },
        { Name: 'ben', RoutingProfileId: 'rp-2', SecurityProfileIds: ['sp-1'], ImportId: 'inst-1:u-ben' },
      ],
      PasswordSecretId: Match.anyValue(),
      PasswordSecretKey: 'agents',
      RequestsPerSecond: '2',
      Burst: '5',
    },
  });
  const users = Object.values(t.findResources('Custom::ConnectUserSet'))[0].Properties.Users;
  assert.ok(users.every((u: any) => u.InstanceId === undefined), 'the set gives the instance');
  assert.ok(policyStatements(t).some((st) => [st.Action].flat().includes('secretsmanager:GetSecretValue')), 'the secret is granted');
  assert.ok(set.attrTotal && set.attrUserIds);
  assert.throws(() => new ConnectUserSet(s, 'Twice', { provider, instanceId: 'i', users: [{ name: 'a', routingProfileId: 'r', securityProfileIds: ['s'] }, { name: 'A', routingProfileId: 'r', securityProfileIds: ['s'] }] }), /given twice/);
});

test('a roster kept in a local CSV is uploaded as an asset, pinned by its hash, and only that object is readable', () => {
  const s = stack();
  const provider = new ConnectUserProvider(s, 'Provider', { codePath: fakeZip() });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roster-'));
  const file = path.join(dir, 'agents.csv');
  fs.writeFileSync(file, 'user login,routing profile name,security profile name\nana,Basic Routing Profile,Agent\n');
  new ConnectUserSet(s, 'FromFile', { provider, instanceId: 'inst-1', source: RosterSource.fromFile(file) });
  const t = Template.fromStack(s);
  const props = Object.values(t.findResources('Custom::ConnectUserSet'))[0].Properties;
  assert.equal(props.Users, undefined, 'no inline users');
  assert.equal(props.SourceFormat, 'csv');
  assert.match(props.SourceVersion, /^[0-9a-f]{64}$/, 'the asset hash');
  const source = JSON.stringify(props.Source);
  assert.ok(source.includes('s3://') && source.includes(`${props.SourceVersion}.csv`), `the key holds the hash: ${source}`);
  const read = policyStatements(t).filter((st) => [st.Action].flat().some((a: string) => a.startsWith('s3:')));
  assert.equal(read.length, 1);
  assert.deepEqual([read[0].Action].flat().sort(), ['s3:GetObject', 's3:GetObjectVersion']);
  assert.ok(JSON.stringify(read[0].Resource).includes(`${props.SourceVersion}.csv`), 'that object only');

  // Another content, another hash: CloudFormation sees a change and sends an Update.
  const s2 = stack();
  const p2 = new ConnectUserProvider(s2, 'Provider', { codePath: fakeZip() });
  fs.writeFileSync(file, 'user login,routing profile name,security profile name\nana,Basic Routing Profile,Agent\nben,Basic Routing Profile,Agent\n');
  new ConnectUserSet(s2, 'FromFile', { provider: p2, instanceId: 'inst-1', source: RosterSource.fromFile(file) });
  const v2 = Object.values(Template.fromStack(s2).findResources('Custom::ConnectUserSet'))[0].Properties.SourceVersion;
  assert.notEqual(v2, props.SourceVersion);

  assert.throws(() => new ConnectUserSet(s, 'Nothing', { provider, instanceId: 'i' }), /give users, a source, or both/);
  const txt = path.join(dir, 'agents.txt');
  fs.writeFileSync(txt, '');
  assert.throws(() => new ConnectUserSet(s, 'Txt', { provider, instanceId: 'i', source: RosterSource.fromFile(txt) }), /cannot tell the format of .*agents.txt from its extension; give fromFile's format/);
});

test('a roster kept in a bucket passes the key and version, and grants that key only', () => {
  const s = stack();
  const provider = new ConnectUserProvider(s, 'Provider', { codePath: fakeZip() });
  const bucket = s3.Bucket.fromBucketName(s, 'Rosters', 'acme-rosters');
  new ConnectUserSet(s, 'FromBucket', {
    provider,
    instanceId: 'inst-1',
    source: RosterSource.fromBucket(bucket, 'agents/emea.csv', { version: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY' }),
    users: [{ name: 'extra', routingProfileId: 'rp', securityProfileIds: ['sp'] }],
  });
  const t = Template.fromStack(s);
  t.hasResourceProperties('Custom::ConnectUserSet', {
    Source: 's3://acme-rosters/agents/emea.csv',
    SourceVersion: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY',
    Users: [{ Name: 'extra', RoutingProfileId: 'rp', SecurityProfileIds: ['sp'] }],
  });
  const read = policyStatements(t).find((st) => [st.Action].flat().includes('s3:GetObject'));
  assert.deepEqual(read.Resource, { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::acme-rosters/agents/emea.csv']] });
});

test('the provider logs JSON into a log group with retention, and alarms on failures, as template.yaml does', () => {
  const s = stack();
  const provider = new ConnectUserProvider(s, 'Provider', { codePath: fakeZip() });
  const t = Template.fromStack(s);
  t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  const logGroupId = s.getLogicalId(provider.logGroup!.node.defaultChild as any);
  t.hasResourceProperties('AWS::Lambda::Function', {
    LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', LogGroup: { Ref: logGroupId } },
    Environment: { Variables: { METRICS_NAMESPACE: 'ConnectUserResource', RUST_LOG: Match.absent() } },
  });
  const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[];
  assert.equal(alarms.length, 1);
  const a = alarms[0].Properties;
  assert.equal(a.Threshold, 0);
  assert.equal(a.ComparisonOperator, 'GreaterThanThreshold');
  assert.equal(a.TreatMissingData, 'notBreaching');
  assert.equal(a.AlarmActions, undefined, 'no action without an address');
  const watched = a.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric);
  assert.deepEqual(watched.map((m: any) => m.MetricName).sort(), ['Failed', 'Undelivered']);
  assert.ok(watched.every((m: any) => m.Namespace === 'ConnectUserResource' && m.Dimensions === undefined), 'every resource and request type');
  t.resourceCountIs('AWS::SNS::Topic', 0);
  t.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  // template.yaml: the same alarm, metrics and defaults.
  const yaml = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'template.yaml'), 'utf8');
  assert.deepEqual([...yaml.matchAll(/MetricName: (\w+)/g)].map((m) => m[1]).sort(), ['Failed', 'Undelivered']);
  assert.match(yaml, /LogRetentionDays:\n\s+Type: Number\n\s+Default: 90\n/);
  assert.match(yaml, /MetricsNamespace:\n\s+Type: String\n\s+Default: ConnectUserResource\n/);
  assert.match(yaml, /LogLevel:\n\s+Type: String\n\s+Default: INFO\n/);
  assert.match(yaml, /Expression: FILL\(failed, 0\) \+ FILL\(undelivered, 0\)/);
});

test('an alarm email, a dashboard, a namespace, a level and a retention are the provider\'s properties', () => {
  const s = stack();
  new ConnectUserProvider(s, 'Provider', {
    codePath: fakeZip(),
    alarmEmail: 'ops@example.com',
    dashboard: true,
    metricsNamespace: 'Contact/Agents',
    logLevel: lambda.ApplicationLogLevel.DEBUG,
    logRetention: logs.RetentionDays.ONE_YEAR,
  });
  const t = Template.fromStack(s);
  t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  const topicId = Object.keys(t.findResources('AWS::SNS::Topic'))[0];
  t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: topicId }] });
  t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  t.hasResourceProperties('AWS::Lambda::Function', {
    LoggingConfig: { ApplicationLogLevel: 'DEBUG' },
    Environment: { Variables: { METRICS_NAMESPACE: 'Contact/Agents' } },
  });
  const body = JSON.stringify(Object.values(t.findResources('AWS::CloudWatch::Dashboard'))[0]);
  for (const name of [...EVENT_METRICS, ...SET_METRICS]) {
    assert.ok(body.includes(`\\"${name}\\"`), `${name} on the dashboard`);
  }
  assert.ok(body.includes('Contact/Agents'));
  assert.throws(
    () => new ConnectUserProvider(stack(), 'P', { codePath: fakeZip(), logLevel: lambda.ApplicationLogLevel.WARN }),
    /logLevel WARN would drop the per-user reports and the metric lines/,
  );
  const yaml = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'template.yaml'), 'utf8');
  assert.match(yaml, /AllowedValues: \[TRACE, DEBUG, INFO\]/, 'template.yaml refuses them too');
});

test('a set writes its run reports and MaxDeletions, and the provider may write under that prefix only', () => {
  const s = stack();
  const provider = new ConnectUserProvider(s, 'Provider', { codePath: fakeZip() });
  const bucket = new s3.Bucket(s, 'Reports');
  new ConnectUserSet(s, 'Agents', {
    provider,
    instanceId: 'inst-1',
    users: [{ name: 'ana' }],
    maxDeletions: 25,
    report: { bucket, prefix: 'connect/' },
  });
  const t = Template.fromStack(s);
  const bucketId = s.getLogicalId(bucket.node.defaultChild as any);
  t.hasResourceProperties('Custom::ConnectUserSet', {
    MaxDeletions: '25',
    Report: { 'Fn::Join': ['', ['s3://', { Ref: bucketId }, '/connect/']] },
  });
  const puts = policyStatements(t).filter((st) => [st.Action].flat().includes('s3:PutObject'));
  assert.equal(puts.length, 1);
  assert.deepEqual([puts[0].Action].flat(), ['s3:PutObject']);
  assert.deepEqual(puts[0].Resource, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/connect/*']] });
  const yaml = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'template.yaml'), 'utf8');
  assert.match(yaml, /- s3:PutObject\n\s+Resource: !Sub arn:\$\{AWS::Partition\}:s3:::\$\{ReportBucket\}\/\$\{ReportPrefix\}\*/);
});

test('a failed-event queue and a KMS key are the provider\'s options, as template.yaml\'s FailedEventQueue and KmsKeyArn', () => {
  const plain = Template.fromStack((() => { const s = stack(); new ConnectUserProvider(s, 'Provider', { codePath: fakeZip() }); return s; })());
  plain.resourceCountIs('AWS::SQS::Queue', 0);
  assert.equal(Object.values(plain.findResources('AWS::Lambda::EventInvokeConfig'))[0].Properties.DestinationConfig, undefined);
  const s = stack();
  const key = kms.Key.fromKeyArn(s, 'Key', 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');
  const provider = new ConnectUserProvider(s, 'Provider', { codePath: fakeZip(), failedEventQueue: true, kmsKey: key });
  const t = Template.fromStack(s);
  const queueId = s.getLogicalId(provider.failedEvents!.node.defaultChild as any);
  t.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true });
  t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
    MaximumRetryAttempts: 0,
    DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
  });
  const statements = policyStatements(t);
  const send = statements.filter((st) => [st.Action].flat().some((a: string) => a.startsWith('sqs:')));
  assert.equal(send.length, 1);
  assert.ok([send[0].Action].flat().includes('sqs:SendMessage'));
  assert.deepEqual(send[0].Resource, { 'Fn::GetAtt': [queueId, 'Arn'] });
  const decrypt = statements.filter((st) => [st.Action].flat().some((a: string) => a.startsWith('kms:')));
  assert.equal(decrypt.length, 1);
  assert.deepEqual([decrypt[0].Action].flat(), ['kms:Decrypt']);
  assert.equal(decrypt[0].Resource, 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');
  const yaml = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'template.yaml'), 'utf8');
  assert.match(yaml, /FailedEventQueue:\n\s+Type: String\n\s+Default: "false"/);
  assert.match(yaml, /- kms:Decrypt\n\s+Resource: !Ref KmsKeyArn/);
});
