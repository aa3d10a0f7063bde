/** One Amazon Connect user as a `Custom::ConnectUser` resource. */
import { CustomResource, Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { userProperties } from './properties';
import { ConnectUserProvider } from './provider';
import { UserLogin, UserSettings } from './settings';

export interface ConnectUserProps extends UserLogin, UserSettings {
  /** The provider to use; or give `serviceToken`. */
  readonly provider?: ConnectUserProvider;
  readonly serviceToken?: string;
  /** Instance id or ARN; a change replaces the user. */
  readonly instanceId: string;
  readonly routingProfileId: string;
  readonly securityProfileIds: string[];
  /** How long CloudFormation waits for the function (default 600 s). */
  readonly serviceTimeout?: Duration;
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
      properties: userProperties(props) ?? {},
    });
    this.attrUserId = this.resource.getAttString('UserId');
    this.attrArn = this.resource.getAttString('Arn');
  }

  /** The same as `attrUserId`. */
  public get userId(): string {
    return this.attrUserId;
  }

  /** The same as `attrArn`. */
  public get arn(): string {
    return this.attrArn;
  }
}
