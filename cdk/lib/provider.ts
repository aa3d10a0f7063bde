/**
 * The function that serves both resource types, deployed as template.yaml deploys it (or an existing one wrapped),
 * with the grants each roster, secret and report location adds.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

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
  /**
   * An SQS queue (kept two weeks) for the asynchronous invocations (a roster's continuations) Lambda could not run,
   * as template.yaml's FailedEventQueue; default false.
   */
  readonly failedEventQueue?: boolean;
  /** A customer managed key that encrypts the password secrets or the roster bucket: kms:Decrypt on it only. */
  readonly kmsKey?: kms.IKey;
}

/** Deploys the Lambda (or wraps an existing ServiceToken) that serves `Custom::ConnectUser` and `Custom::ConnectUserSet`. */
export class ConnectUserProvider extends Construct {
  /** The Connect user operations the function calls; template.yaml grants the same (a test keeps them equal). */
  public static readonly CONNECT_ACTIONS: string[] = [
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
  public static readonly STATE_ACTIONS: string[] = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query'];
  /** What the function may do to read its stacks' status. */
  public static readonly STACK_ACTIONS: string[] = ['cloudformation:DescribeStacks'];
  /** The metric names every event writes (docs/day-two.md). */
  public static readonly EVENT_METRICS: string[] = ['Events', 'Failed', 'Undelivered', 'Continuations', 'Duration'];
  /** The metric names a set adds (docs/day-two.md). */
  public static readonly SET_METRICS: string[] = ['UsersCreated', 'UsersUpdated', 'UsersDeleted', 'UsersTakenOver', 'UsersReleased', 'ThrottledRetries'];

  /**
   * The architecture `make build` recorded beside a zip (`bootstrap.arch` beside `bootstrap.zip`, read from the
   * binary itself). A function deployed as another architecture than its binary's cannot start, and every event
   * would then wait an hour for an answer: without a record, synthesis fails instead.
   */
  public static architectureOf(zipPath: string): lambda.Architecture {
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

  /**
   * This repository's `make build` zip, the default when this library is used from its own checkout; from a package
   * (npm, PyPI) there is no such checkout, and `codePath` or `serviceToken` must be given.
   */
  private static builtZip(): string {
    const zip = path.join(__dirname, '..', '..', '..', 'target', 'lambda', 'connect-user-resource', 'bootstrap.zip');
    if (!fs.existsSync(zip)) {
      throw new Error(`ConnectUserProvider: give codePath (the zip 'make build' writes) or serviceToken; the default, ${zip}, does not exist`);
    }
    return zip;
  }

  public readonly serviceToken: string;
  /** The function (none when an existing ServiceToken is wrapped). */
  public readonly function?: lambda.Function;
  /** The function's state table (none when an existing ServiceToken is wrapped). */
  public readonly stateTable?: dynamodb.Table;
  /** The function's log group (JSON lines, metric lines among them). */
  public readonly logGroup?: logs.LogGroup;
  /** In alarm when an event failed or its response could not be delivered. */
  public readonly failureAlarm?: cloudwatch.Alarm;
  /** Only with `dashboard: true`. */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** Only with `failedEventQueue: true`. */
  public readonly failedEvents?: sqs.Queue;

  constructor(scope: Construct, id: string, props: ConnectUserProviderProps = {}) {
    super(scope, id);
    if (props.serviceToken) {
      this.serviceToken = props.serviceToken;
      return;
    }
    const codePath = props.codePath ?? ConnectUserProvider.builtZip();
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
    const fn = new lambda.Function(this, 'Function', {
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture: ConnectUserProvider.architectureOf(codePath),
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
    this.function = fn;
    // A roster longer than one invocation continues in an asynchronous invocation of the function itself; Lambda's
    // own retries of those would deliver a continuation twice, so they are off. CloudFormation gives up on an
    // event an hour after sending it at the latest, so older events are dropped rather than run late.
    if (props.failedEventQueue) {
      this.failedEvents = new sqs.Queue(this, 'FailedEvents', { retentionPeriod: Duration.days(14), encryption: sqs.QueueEncryption.SQS_MANAGED });
    }
    fn.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.hours(1),
      onFailure: this.failedEvents ? new destinations.SqsDestination(this.failedEvents) : undefined,
    });
    props.kmsKey?.grantDecrypt(fn);
    // In a policy of its own, which the function does not depend on (its own ARN in its role's default policy
    // would be a circular dependency).
    if (fn.role) {
      new iam.Policy(this, 'ContinuePolicy', {
        roles: [fn.role],
        statements: [
          new iam.PolicyStatement({
            sid: 'InvokeItselfToContinue',
            actions: ['lambda:InvokeFunction'],
            resources: [fn.functionArn, `${fn.functionArn}:*`],
          }),
        ],
      });
    }
    // Its own table only, and only the calls the function makes.
    fn.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'StateTable', actions: ConnectUserProvider.STATE_ACTIONS, resources: [this.stateTable.tableArn] }),
    );
    const stack = Stack.of(this);
    // The status of the stack an event comes from (a rollback puts a take-over back, a deletion does not): any
    // stack of this account and region, since the function serves every stack that uses its service token.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'StackStatus',
        actions: ConnectUserProvider.STACK_ACTIONS,
        resources: [`arn:${stack.partition}:cloudformation:${stack.region}:${stack.account}:stack/*`],
      }),
    );
    const instance = props.connectInstanceId ?? '*';
    const instanceArn = `arn:${stack.partition}:connect:${stack.region}:${stack.account}:instance/${instance}`;
    fn.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ConnectUsers', actions: ConnectUserProvider.CONNECT_ACTIONS, resources: [instanceArn, `${instanceArn}/*`] }),
    );
    for (const secret of props.passwordSecrets ?? []) {
      this.grantPasswordSecret(secret);
    }
    if (props.reportBucket) {
      this.grantReports(props.reportBucket, props.reportPrefix);
    }
    this.serviceToken = fn.functionArn;

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

  /** Lets the function read one roster file (GetObject and GetObjectVersion on that key only), and decrypt it with `encryptionKey`. */
  public grantRosterFile(bucketName: string, key: string, encryptionKey?: kms.IKey): void {
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

  /** Lets the function write run reports under one prefix of a bucket (PutObject only); default prefix: the whole bucket. */
  public grantReports(bucket: s3.IBucket, prefix?: string): void {
    if (!this.function) {
      return;
    }
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects(`${prefix ?? ''}*`)] }));
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
