/**
 * Typed CDK constructs for connect-user-resource, so that CDK users get checked, camelCase props instead of an
 * untyped property bag. Values are written as strings, the way CloudFormation passes them to the function anyway.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** The Connect user operations the function calls; template.yaml grants the same (a test keeps them equal). */
export const CONNECT_ACTIONS = [
  'connect:CreateUser',
  'connect:DescribeUser',
  'connect:DeleteUser',
  'connect:SearchUsers',
  'connect:ListUsers',
  'connect:ListRoutingProfiles',
  'connect:ListSecurityProfiles',
  'connect:ListUserHierarchyGroups',
  'connect:DescribeUserHierarchyGroup',
  'connect:DescribeInstance',
  'connect:UpdateUserIdentityInfo',
  'connect:UpdateUserPhoneConfig',
  'connect:UpdateUserRoutingProfile',
  'connect:UpdateUserSecurityProfiles',
  'connect:UpdateUserHierarchy',
  'connect:UpdateUserConfig',
  'connect:AssociateUserProficiencies',
  'connect:UpdateUserProficiencies',
  'connect:DisassociateUserProficiencies',
  'connect:ListUserProficiencies',
  'connect:TagResource',
  'connect:UntagResource',
];

/** The state table operations the function calls; template.yaml grants the same (a test keeps them equal). */
export const STATE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query'];
/** What the function may do to read its stacks' status. */
export const STACK_ACTIONS = ['cloudformation:DescribeStacks'];

export interface ConnectUserProviderProps {
  /** An existing ServiceToken (for example the export of a template.yaml stack); no function is created then. */
  readonly serviceToken?: string;
  /**
   * The cargo-lambda zip; default `../target/lambda/connect-user-resource/bootstrap.zip` of this repository.
   * `make build` records the binary's architecture beside it (`bootstrap.arch`), and the function is deployed as
   * that architecture; a zip without that record is refused at synthesis.
   */
  readonly codePath?: string;
  /** At most this many users are worked on at once (Connect allows about 2 requests/s per API). Default 5. */
  readonly reservedConcurrency?: number;
  /** The Connect instance id the function may manage users in; default `*` (every instance of the account and Region). */
  readonly connectInstanceId?: string;
  /** Secrets the function may read passwords from; more can be added with `grantPasswordSecret`. */
  readonly passwordSecrets?: secretsmanager.ISecret[];
  /** Default 300 seconds, as in template.yaml. */
  readonly timeout?: Duration;
  /**
   * The function's log level: TRACE, DEBUG or INFO (the default, as template.yaml's LogLevel). A higher level is
   * refused: the per-user reports and the metric lines the alarm reads are INFO lines.
   */
  readonly logLevel?: lambda.ApplicationLogLevel;
  /** How long the function's log group keeps its logs; default three months (template.yaml's LogRetentionDays: 90). */
  readonly logRetention?: logs.RetentionDays;
  /** The CloudWatch namespace of the function's metrics; default `ConnectUserResource`. */
  readonly metricsNamespace?: string;
  /** An address mailed when an event fails or its response cannot be delivered (an SNS topic and subscription). */
  readonly alarmEmail?: string;
  /** A CloudWatch dashboard of events, failures, users changed, throttled retries and duration; default false. */
  readonly dashboard?: boolean;
  /** A bucket the function may write sets' run reports to (PutObject under `reportPrefix` only). */
  readonly reportBucket?: s3.IBucket;
  /** Only keys that start with this may be written; default the whole bucket. */
  readonly reportPrefix?: string;
}

/** The metric names the function writes (docs/day-two.md): every event's, then a set's. */
export const EVENT_METRICS = ['Events', 'Failed', 'Undelivered', 'Continuations', 'Duration'];
export const SET_METRICS = ['UsersCreated', 'UsersUpdated', 'UsersDeleted', 'UsersTakenOver', 'UsersReleased', 'ThrottledRetries'];

/**
 * The architecture `make build` recorded beside a zip (`bootstrap.arch` beside `bootstrap.zip`, read from the
 * binary itself). A function deployed as another architecture than its binary's cannot start, and every event
 * would then wait an hour for an answer: without a record, synthesis fails instead.
 */
export function architectureOf(zipPath: string): lambda.Architecture {
  const record = zipPath.replace(/\.zip$/, '') + '.arch';
  let recorded: string;
  try {
    recorded = fs.readFileSync(record, 'utf8').trim();
  } catch {
    throw new Error(`${zipPath}: no architecture is recorded beside it (${record}); build the zip with 'make build', which records it`);
  }
  switch (recorded) {
    case 'arm64':
      return lambda.Architecture.ARM_64;
    case 'x86_64':
      return lambda.Architecture.X86_64;
    default:
      throw new Error(`${record} says ${JSON.stringify(recorded)}, which is not arm64 or x86_64; build the zip again with 'make build'`);
  }
}

/** Deploys the Lambda (or wraps an existing ServiceToken) that serves `Custom::ConnectUser` and `Custom::ConnectUserSet`. */
export class ConnectUserProvider extends Construct {
  public readonly serviceToken: string;
  public readonly function?: lambda.Function;
  /** The function's state table (none when an existing ServiceToken is wrapped). */
  public readonly stateTable?: dynamodb.Table;
  /** The function's log group (JSON lines, metric lines among them). */
  public readonly logGroup?: logs.LogGroup;
  /** In alarm when an event failed or its response could not be delivered. */
  public readonly failureAlarm?: cloudwatch.Alarm;
  public readonly dashboard?: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ConnectUserProviderProps = {}) {
    super(scope, id);
    if (props.serviceToken) {
      this.serviceToken = props.serviceToken;
      return;
    }
    const codePath = props.codePath ?? path.join(__dirname, '..', '..', '..', 'target', 'lambda', 'connect-user-resource', 'bootstrap.zip');
    // What must outlast an invocation (answered events, failed Updates, the users each set holds), as in
    // template.yaml: read strongly consistently, written conditionally; kept when the stack goes.
    this.stateTable = new dynamodb.Table(this, 'State', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expires',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const level = props.logLevel ?? lambda.ApplicationLogLevel.INFO;
    if (![lambda.ApplicationLogLevel.TRACE, lambda.ApplicationLogLevel.DEBUG, lambda.ApplicationLogLevel.INFO].includes(level)) {
      throw new Error(`ConnectUserProvider: logLevel ${level} would drop the per-user reports and the metric lines; use TRACE, DEBUG or INFO`);
    }
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const namespace = props.metricsNamespace ?? 'ConnectUserResource';
    this.function = new lambda.Function(this, 'Function', {
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: architectureOf(codePath),
      handler: 'bootstrap',
      code: lambda.Code.fromAsset(codePath),
      memorySize: 128,
      timeout: props.timeout ?? Duration.seconds(300),
      reservedConcurrentExecutions: props.reservedConcurrency ?? 5,
      environment: { STATE_TABLE: this.stateTable.tableName, METRICS_NAMESPACE: namespace },
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: level,
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
      logGroup: this.logGroup,
      description: 'connect-user-resource: Custom::ConnectUser and Custom::ConnectUserSet (Amazon Connect users)',
    });
    // A roster longer than one invocation continues in an asynchronous invocation of the function itself; Lambda's
    // own retries of those would deliver a continuation twice, so they are off. CloudFormation gives up on an
    // event an hour after sending it at the latest, so older events are dropped rather than run late.
    this.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.hours(1) });
    // In a policy of its own, which the function does not depend on (its own ARN in its role's default policy
    // would be a circular dependency).
    new iam.Policy(this, 'ContinuePolicy', {
      roles: [this.function.role!],
      statements: [
        new iam.PolicyStatement({
          sid: 'InvokeItselfToContinue',
          actions: ['lambda:InvokeFunction'],
          resources: [this.function.functionArn, `${this.function.functionArn}:*`],
        }),
      ],
    });
    // Its own table only, and only the calls the function makes.
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'StateTable', actions: STATE_ACTIONS, resources: [this.stateTable.tableArn] }),
    );
    const stack = Stack.of(this);
    // The status of the stack an event comes from (a rollback puts a take-over back, a deletion does not): any
    // stack of this account and region, since the function serves every stack that uses its service token.
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'StackStatus',
        actions: STACK_ACTIONS,
        resources: [`arn:${stack.partition}:cloudformation:${stack.region}:${stack.account}:stack/*`],
      }),
    );
    const instance = props.connectInstanceId ?? '*';
    const instanceArn = `arn:${stack.partition}:connect:${stack.region}:${stack.account}:instance/${instance}`;
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ConnectUsers', actions: CONNECT_ACTIONS, resources: [instanceArn, `${instanceArn}/*`] }),
    );
    for (const secret of props.passwordSecrets ?? []) {
      this.grantPasswordSecret(secret);
    }
    if (props.reportBucket) {
      this.grantReports(props.reportBucket, props.reportPrefix ?? '');
    }
    this.serviceToken = this.function.functionArn;

    // The metrics without dimensions: every resource type and request type together (as template.yaml).
    const metric = (name: string, statistic = 'Sum') =>
      new cloudwatch.Metric({ namespace, metricName: name, statistic, period: Duration.minutes(1) });
    this.failureAlarm = new cloudwatch.Alarm(this, 'FailureAlarm', {
      alarmDescription:
        'A Connect user resource event failed, or its response could not be delivered. The reason is in the stack\'s events; the details in the function\'s log group.',
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(undelivered, 0)',
        label: 'Events failed or not answered',
        usingMetrics: { failed: metric('Failed'), undelivered: metric('Undelivered') },
        period: Duration.minutes(1),
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmEmail) {
      // Not encrypted with the AWS managed key: CloudWatch cannot publish to a topic under it.
      const topic = new sns.Topic(this, 'AlarmTopic');
      topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
      this.failureAlarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
    }
    if (props.dashboard) {
      const graph = (title: string, names: string[], stacked = false) =>
        new cloudwatch.GraphWidget({ title, width: 12, stacked, left: names.map((n) => metric(n).with({ period: Duration.minutes(5) })) });
      this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard');
      this.dashboard.addWidgets(
        graph('Events answered and failed', ['Events', 'Failed', 'Undelivered', 'Continuations']),
        graph('Users changed', ['UsersCreated', 'UsersUpdated', 'UsersDeleted', 'UsersTakenOver', 'UsersReleased'], true),
      );
      this.dashboard.addWidgets(
        graph('Throttled retries', ['ThrottledRetries']),
        new cloudwatch.GraphWidget({
          title: 'Time per invocation (ms)',
          width: 12,
          left: ['Average', 'Maximum'].map((st) => metric('Duration', st).with({ period: Duration.minutes(5) })),
        }),
      );
    }
  }

  /** Lets the function read one roster file (GetObject and GetObjectVersion on that key only). */
  public grantRosterFile(bucketName: string, key: string, encryptionKey?: { grantDecrypt(g: iam.IGrantable): unknown }): void {
    if (!this.function) {
      return;
    }
    const stack = Stack.of(this);
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [`arn:${stack.partition}:s3:::${bucketName}/${key}`],
      }),
    );
    encryptionKey?.grantDecrypt(this.function);
  }

  /** Lets the function write run reports under one prefix of a bucket (PutObject only). */
  public grantReports(bucket: s3.IBucket, prefix = ''): void {
    if (!this.function) {
      return;
    }
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects(`${prefix}*`)] }));
    bucket.encryptionKey?.grant(this.function, 'kms:GenerateDataKey', 'kms:Encrypt');
  }

  /** Lets the function read one secret's value (GetSecretValue only). */
  public grantPasswordSecret(secret: secretsmanager.ISecret): void {
    if (!this.function) {
      return;
    }
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }));
    secret.encryptionKey?.grantDecrypt(this.function);
  }
}

export type Channel = 'VOICE' | 'CHAT' | 'TASK' | 'EMAIL';
export type PhoneType = 'SOFT_PHONE' | 'DESK_PHONE';

export interface IdentityInfo {
  readonly firstName?: string;
  readonly lastName?: string;
  readonly email?: string;
  readonly secondaryEmail?: string;
  readonly mobile?: string;
}

export interface PhoneConfig {
  readonly phoneType?: PhoneType;
  readonly autoAccept?: boolean;
  /** Seconds; 0 means no limit. */
  readonly afterContactWorkTimeLimit?: number;
  readonly deskPhoneNumber?: string;
  readonly persistentConnection?: boolean;
}

export interface AutoAcceptConfig {
  readonly channel: Channel;
  readonly autoAccept: boolean;
  readonly agentFirstCallbackAutoAccept?: boolean;
}

export interface AfterContactWorkConfig {
  readonly channel: Channel;
  readonly afterContactWorkTimeLimit: number;
  readonly agentFirstCallbackAfterContactWorkTimeLimit?: number;
}

export interface PhoneNumberConfig {
  readonly channel: Channel;
  readonly phoneType: PhoneType;
  readonly phoneNumber?: string;
}

export interface PersistentConnectionConfig {
  readonly channel: Channel;
  readonly persistentConnection: boolean;
}

export interface VoiceEnhancementConfig {
  readonly channel: Channel;
  readonly voiceEnhancementMode: 'VOICE_ISOLATION' | 'NOISE_SUPPRESSION' | 'NONE';
}

export interface UserProficiency {
  readonly attributeName: string;
  readonly attributeValue: string;
  /** 1.0 to 5.0. */
  readonly level: number;
}

export interface ConnectUserProps {
  /** The provider to use; or give `serviceToken`. */
  readonly provider?: ConnectUserProvider;
  readonly serviceToken?: string;
  /** Instance id or ARN; a change replaces the user. */
  readonly instanceId: string;
  /** The username; a change replaces the user. */
  readonly name: string;
  /** Prefer `passwordSecret`: a plain password ends up in the template. Cannot change after creation. */
  readonly password?: string;
  /** The secret's ARN (never its value) is passed to the function, which reads it at create time. */
  readonly passwordSecret?: secretsmanager.ISecret;
  /** A key of the secret's JSON holding the password; default: the whole secret string. */
  readonly passwordSecretKey?: string;
  readonly directoryUserId?: string;
  readonly routingProfileId: string;
  readonly securityProfileIds: string[];
  readonly hierarchyGroupId?: string;
  readonly identityInfo?: IdentityInfo;
  readonly phoneConfig?: PhoneConfig;
  readonly tags?: Record<string, string>;
  readonly autoAcceptConfigs?: AutoAcceptConfig[];
  readonly afterContactWorkConfigs?: AfterContactWorkConfig[];
  readonly phoneNumberConfigs?: PhoneNumberConfig[];
  readonly persistentConnectionConfigs?: PersistentConnectionConfig[];
  readonly voiceEnhancementConfigs?: VoiceEnhancementConfig[];
  readonly userProficiencies?: UserProficiency[];
  /**
   * Take over an existing user instead of creating one: `<instance-id>:<user-id>` or the user's ARN (from
   * `connect-users export`). While it is set, deleting the resource (or the stack) keeps the user in Connect and
   * only removes this resource's own tags; remove it to hand the user to the stack. No password is applied.
   */
  readonly importId?: string;
  /** How long CloudFormation waits for the function (default 600 s). */
  readonly serviceTimeout?: Duration;
}

const str = (v: string | number | boolean | undefined): string | undefined => (v === undefined ? undefined : String(v));

/** Drops undefined members so the template carries only what was given. */
function compact<T extends Record<string, unknown>>(o: T): Partial<T> | undefined {
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  return Object.keys(out).length === 0 ? undefined : out;
}

/** The resource's PascalCase properties, every scalar as a string. */
export function toProperties(props: ConnectUserProps): Record<string, unknown> {
  const p = props;
  return compact({
    InstanceId: p.instanceId,
    Name: p.name,
    ImportId: p.importId,
    Password: p.password,
    PasswordSecretId: p.passwordSecret?.secretArn,
    PasswordSecretKey: p.passwordSecretKey,
    DirectoryUserId: p.directoryUserId,
    RoutingProfileId: p.routingProfileId,
    SecurityProfileIds: p.securityProfileIds,
    HierarchyGroupId: p.hierarchyGroupId,
    IdentityInfo: p.identityInfo && compact({
      FirstName: p.identityInfo.firstName,
      LastName: p.identityInfo.lastName,
      Email: p.identityInfo.email,
      SecondaryEmail: p.identityInfo.secondaryEmail,
      Mobile: p.identityInfo.mobile,
    }),
    PhoneConfig: p.phoneConfig && compact({
      PhoneType: p.phoneConfig.phoneType,
      AutoAccept: str(p.phoneConfig.autoAccept),
      AfterContactWorkTimeLimit: str(p.phoneConfig.afterContactWorkTimeLimit),
      DeskPhoneNumber: p.phoneConfig.deskPhoneNumber,
      PersistentConnection: str(p.phoneConfig.persistentConnection),
    }),
    Tags: p.tags,
    AutoAcceptConfigs: p.autoAcceptConfigs?.map((c) =>
      compact({ Channel: c.channel, AutoAccept: str(c.autoAccept), AgentFirstCallbackAutoAccept: str(c.agentFirstCallbackAutoAccept) })),
    AfterContactWorkConfigs: p.afterContactWorkConfigs?.map((c) => compact({
      Channel: c.channel,
      AfterContactWorkConfig: { AfterContactWorkTimeLimit: String(c.afterContactWorkTimeLimit) },
      AgentFirstCallbackAfterContactWorkConfig: c.agentFirstCallbackAfterContactWorkTimeLimit === undefined
        ? undefined : { AfterContactWorkTimeLimit: String(c.agentFirstCallbackAfterContactWorkTimeLimit) },
    })),
    PhoneNumberConfigs: p.phoneNumberConfigs?.map((c) => compact({ Channel: c.channel, PhoneType: c.phoneType, PhoneNumber: c.phoneNumber })),
    PersistentConnectionConfigs: p.persistentConnectionConfigs?.map((c) => ({ Channel: c.channel, PersistentConnection: String(c.persistentConnection) })),
    VoiceEnhancementConfigs: p.voiceEnhancementConfigs?.map((c) => ({ Channel: c.channel, VoiceEnhancementMode: c.voiceEnhancementMode })),
    UserProficiencies: p.userProficiencies?.map((u) => ({ AttributeName: u.attributeName, AttributeValue: u.attributeValue, Level: String(u.level) })),
  }) ?? {};
}

/** One Amazon Connect user, as a `Custom::ConnectUser` resource. */
export class ConnectUser extends Construct {
  public readonly resource: CustomResource;
  /** `Fn::GetAtt UserId`. */
  public readonly attrUserId: string;
  /** `Fn::GetAtt Arn`. */
  public readonly attrArn: string;

  constructor(scope: Construct, id: string, props: ConnectUserProps) {
    super(scope, id);
    const serviceToken = props.serviceToken ?? props.provider?.serviceToken;
    if (!serviceToken) {
      throw new Error('ConnectUser: give a provider or a serviceToken');
    }
    if (props.password !== undefined && props.passwordSecret !== undefined) {
      throw new Error('ConnectUser: give either password or passwordSecret, not both');
    }
    if (props.passwordSecret && props.provider) {
      props.provider.grantPasswordSecret(props.passwordSecret);
    }
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken,
      resourceType: 'Custom::ConnectUser',
      serviceTimeout: props.serviceTimeout ?? Duration.seconds(600),
      properties: toProperties(props),
    });
    this.attrUserId = this.resource.getAttString('UserId');
    this.attrArn = this.resource.getAttString('Arn');
  }

  public get userId(): string {
    return this.attrUserId;
  }

  public get arn(): string {
    return this.attrArn;
  }
}

/**
 * One entry of a roster: the properties of one user, without what the set gives (instance, service token);
 * routing and security profiles may come from the set's defaults instead.
 */
export type ConnectUserSetEntry = Omit<
  ConnectUserProps,
  'provider' | 'serviceToken' | 'instanceId' | 'serviceTimeout' | 'routingProfileId' | 'securityProfileIds'
> & { readonly routingProfileId?: string; readonly securityProfileIds?: string[] };

/** Settings merged under every entry (an entry's own value wins; lists and maps are replaced, not merged). */
export type ConnectUserSetDefaults = Partial<
  Omit<ConnectUserSetEntry, 'name' | 'importId' | 'password' | 'passwordSecret' | 'passwordSecretKey' | 'directoryUserId'>
>;

export type RosterFormat = 'csv' | 'json' | 'jsonl';

/**
 * Where a roster's entries are kept: a local file, uploaded as a CDK asset (its content hash deploys each change),
 * or an object of a bucket (give `version`, a VersionId of a versioned bucket, so that an upload is deployed by
 * changing it and a rollback reads the previous content).
 */
export type RosterSource =
  | { readonly file: string; readonly format?: RosterFormat }
  | { readonly bucket: s3.IBucket; readonly key: string; readonly version?: string; readonly format?: RosterFormat };

export interface ConnectUserSetProps {
  /** The provider to use; or give `serviceToken`. */
  readonly provider?: ConnectUserProvider;
  readonly serviceToken?: string;
  /** Instance id or ARN; a change makes a new set there (and deletes the old one's users). */
  readonly instanceId: string;
  /** The roster; names are unique (also across `source`). */
  readonly users?: ConnectUserSetEntry[];
  /** Entries kept in a file: Connect's bulk-upload CSV, a JSON array of entries, or JSON lines. */
  readonly source?: RosterSource;
  readonly defaults?: ConnectUserSetDefaults;
  /** A secret whose JSON maps each Name to its password (used when an entry creates a user and has none of its own). */
  readonly passwordSecret?: secretsmanager.ISecret;
  /** The key of the secret's JSON holding that map; default: the whole secret. */
  readonly passwordSecretKey?: string;
  /** Connect requests per second per operation (default 2); raise it only after raising the account's quotas. */
  readonly requestsPerSecond?: number;
  /** Burst per operation (default 5). */
  readonly burst?: number;
  /** How long CloudFormation waits for the whole roster (default and at most 3600 s); the set answers FAILED before. */
  readonly serviceTimeout?: Duration;
  /** How many users an Update may take out of the set (default a tenth of them, at least 10); -1 for no limit. */
  readonly maxDeletions?: number;
  /** Where each event writes its run report (JSON, and a CSV of the failed rows); the provider is granted that prefix. */
  readonly report?: { readonly bucket: s3.IBucket; readonly prefix?: string };
}

/** A set's PascalCase properties. */
export function toSetProperties(props: ConnectUserSetProps): Record<string, unknown> {
  const entry = (e: Partial<ConnectUserSetEntry>): Record<string, unknown> => {
    const p = toProperties({ ...(e as unknown as ConnectUserProps), instanceId: undefined as unknown as string });
    delete p.InstanceId;
    return p;
  };
  return compact({
    InstanceId: props.instanceId,
    Users: props.users?.map(entry),
    Defaults: props.defaults && compact(entry(props.defaults)),
    PasswordSecretId: props.passwordSecret?.secretArn,
    PasswordSecretKey: props.passwordSecretKey,
    RequestsPerSecond: str(props.requestsPerSecond),
    Burst: str(props.burst),
    MaxDeletions: str(props.maxDeletions),
    Report: props.report && `s3://${props.report.bucket.bucketName}/${props.report.prefix ?? ''}`,
  }) ?? {};
}

function formatOf(file: string): RosterFormat {
  const ext = path.extname(file).toLowerCase().replace('.', '');
  if (ext === 'csv' || ext === 'json' || ext === 'jsonl') {
    return ext;
  }
  throw new Error(`ConnectUserSet: cannot tell the format of ${file} from its extension; give source.format`);
}

/** A whole roster of Amazon Connect users in one `Custom::ConnectUserSet` resource. */
export class ConnectUserSet extends Construct {
  public readonly resource: CustomResource;
  /** `Fn::GetAtt Total`: how many users the set holds. */
  public readonly attrTotal: string;
  /** `Fn::GetAtt UserIds`: a JSON object of Name to user id, while it fits CloudFormation's response. */
  public readonly attrUserIds: string;
  /** `Fn::GetAtt ReportUri`: the folder of the last event's run report (only with `report`). */
  public readonly attrReportUri: string;

  constructor(scope: Construct, id: string, props: ConnectUserSetProps) {
    super(scope, id);
    const serviceToken = props.serviceToken ?? props.provider?.serviceToken;
    if (!serviceToken) {
      throw new Error('ConnectUserSet: give a provider or a serviceToken');
    }
    if (!props.users && !props.source) {
      throw new Error('ConnectUserSet: give users, a source, or both');
    }
    const names = new Set<string>();
    for (const u of props.users ?? []) {
      const key = u.name.toLowerCase();
      if (names.has(key)) {
        throw new Error(`ConnectUserSet: the name ${u.name} is given twice`);
      }
      names.add(key);
      if (u.password !== undefined && u.passwordSecret !== undefined) {
        throw new Error(`ConnectUserSet: ${u.name}: give either password or passwordSecret, not both`);
      }
      if (u.passwordSecret && props.provider) {
        props.provider.grantPasswordSecret(u.passwordSecret);
      }
    }
    if (props.passwordSecret && props.provider) {
      props.provider.grantPasswordSecret(props.passwordSecret);
    }
    if (props.report) {
      props.provider?.grantReports(props.report.bucket, props.report.prefix ?? '');
    }
    const properties = toSetProperties(props);
    const src = props.source;
    if (src && 'file' in src) {
      const asset = new Asset(this, 'RosterFile', { path: src.file });
      // The asset's key holds the content hash; SourceVersion repeats it so that a new file is an Update.
      Object.assign(properties, {
        Source: `s3://${asset.s3BucketName}/${asset.s3ObjectKey}`,
        SourceVersion: asset.assetHash,
        SourceFormat: src.format ?? formatOf(src.file),
      });
      props.provider?.grantRosterFile(asset.s3BucketName, asset.s3ObjectKey);
    } else if (src) {
      Object.assign(properties, {
        Source: `s3://${src.bucket.bucketName}/${src.key}`,
        SourceVersion: src.version,
        SourceFormat: src.format,
      });
      props.provider?.grantRosterFile(src.bucket.bucketName, src.key, src.bucket.encryptionKey);
    }
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken,
      resourceType: 'Custom::ConnectUserSet',
      serviceTimeout: props.serviceTimeout ?? Duration.seconds(3600),
      properties: compact(properties) ?? {},
    });
    this.attrTotal = this.resource.getAttString('Total');
    this.attrUserIds = this.resource.getAttString('UserIds');
    this.attrReportUri = this.resource.getAttString('ReportUri');
  }
}
