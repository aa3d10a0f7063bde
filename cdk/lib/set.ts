/** A whole roster of Amazon Connect users in one `Custom::ConnectUserSet` resource, inline or kept in a file. */
import * as path from 'path';
import { CustomResource, Duration } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { compact, str, userProperties } from './properties';
import { ConnectUserProvider } from './provider';
import { UserLogin, UserSettings } from './settings';

/** Settings merged under every entry (an entry's own value wins; lists and maps are replaced, not merged). */
export interface ConnectUserSetDefaults extends UserSettings {
  readonly routingProfileId?: string;
  readonly securityProfileIds?: string[];
}

/**
 * One entry of a roster: the properties of one user, without what the set gives (instance, service token);
 * routing and security profiles may come from the set's defaults instead.
 */
export interface ConnectUserSetEntry extends UserLogin, ConnectUserSetDefaults {}

export enum RosterFormat {
  /** Connect's bulk-upload CSV (the console's columns). */
  CSV = 'csv',
  /** A JSON array of entries. */
  JSON = 'json',
  /** One JSON entry per line. */
  JSONL = 'jsonl',
}

export interface BucketRosterOptions {
  /** The object's VersionId in a versioned bucket: an upload is deployed by changing it, and a rollback reads the previous content. */
  readonly version?: string;
  /** Default: the function tells it from the key's extension. */
  readonly format?: RosterFormat;
}

/** Where a roster's entries are kept: a local file (uploaded as a CDK asset) or an object of a bucket. */
export class RosterSource {
  /**
   * A local file, uploaded as an asset: its content hash is the SourceVersion, so a changed file is an Update and
   * a rollback reads the previous asset. The format comes from the extension (.csv, .json, .jsonl) unless given.
   */
  public static fromFile(file: string, format?: RosterFormat): RosterSource {
    return new RosterSource(file, undefined, undefined, undefined, format ?? RosterSource.formatOf(file));
  }

  /** An object of a bucket; give `version` (see `BucketRosterOptions`). */
  public static fromBucket(bucket: s3.IBucket, key: string, options: BucketRosterOptions = {}): RosterSource {
    return new RosterSource(undefined, bucket, key, options.version, options.format);
  }

  private static formatOf(file: string): RosterFormat {
    switch (path.extname(file).toLowerCase()) {
      case '.csv':
        return RosterFormat.CSV;
      case '.json':
        return RosterFormat.JSON;
      case '.jsonl':
        return RosterFormat.JSONL;
      default:
        throw new Error(`RosterSource: cannot tell the format of ${file} from its extension; give fromFile's format`);
    }
  }

  /** The local file (from `fromFile`). */
  public readonly file?: string;
  /** The bucket (from `fromBucket`). */
  public readonly bucket?: s3.IBucket;
  public readonly key?: string;
  public readonly version?: string;
  public readonly format?: RosterFormat;

  private constructor(file?: string, bucket?: s3.IBucket, key?: string, version?: string, format?: RosterFormat) {
    this.file = file;
    this.bucket = bucket;
    this.key = key;
    this.version = version;
    this.format = format;
  }
}

/** Where a set writes the run report of each event. */
export interface RunReportLocation {
  readonly bucket: s3.IBucket;
  /** Keys start with this; default: the bucket's root. */
  readonly prefix?: string;
}

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
  readonly report?: RunReportLocation;
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
      props.provider?.grantReports(props.report.bucket, props.report.prefix);
    }
    const properties = setProperties(props);
    const src = props.source;
    if (src?.file !== undefined) {
      const asset = new Asset(this, 'RosterFile', { path: src.file });
      // The asset's key holds the content hash; SourceVersion repeats it so that a new file is an Update.
      Object.assign(properties, {
        Source: `s3://${asset.s3BucketName}/${asset.s3ObjectKey}`,
        SourceVersion: asset.assetHash,
        SourceFormat: src.format,
      });
      props.provider?.grantRosterFile(asset.s3BucketName, asset.s3ObjectKey);
    } else if (src?.bucket !== undefined && src.key !== undefined) {
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

/** A set's properties, without its Source (which the construct resolves). */
function setProperties(props: ConnectUserSetProps): Record<string, unknown> {
  return compact({
    InstanceId: props.instanceId,
    Users: props.users?.map((e) => userProperties(e)),
    Defaults: props.defaults && userProperties(props.defaults),
    PasswordSecretId: props.passwordSecret?.secretArn,
    PasswordSecretKey: props.passwordSecretKey,
    RequestsPerSecond: str(props.requestsPerSecond),
    Burst: str(props.burst),
    MaxDeletions: str(props.maxDeletions),
    Report: props.report && `s3://${props.report.bucket.bucketName}/${props.report.prefix ?? ''}`,
  }) ?? {};
}
