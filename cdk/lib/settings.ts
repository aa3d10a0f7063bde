/** The settings a user has: of a `ConnectUser`, and of a `ConnectUserSet`'s entries and defaults. */
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/** A contact channel of Connect. */
export enum Channel {
  VOICE = 'VOICE',
  CHAT = 'CHAT',
  TASK = 'TASK',
  EMAIL = 'EMAIL',
}

export enum PhoneType {
  SOFT_PHONE = 'SOFT_PHONE',
  DESK_PHONE = 'DESK_PHONE',
}

export enum VoiceEnhancementMode {
  VOICE_ISOLATION = 'VOICE_ISOLATION',
  NOISE_SUPPRESSION = 'NOISE_SUPPRESSION',
  NONE = 'NONE',
}

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
  /** Seconds; 0 means no limit. */
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
  readonly voiceEnhancementMode: VoiceEnhancementMode;
}

export interface UserProficiency {
  readonly attributeName: string;
  readonly attributeValue: string;
  /** 1.0 to 5.0. */
  readonly level: number;
}

/** What a user is called and how it signs in: given per user, never as a set's default. */
export interface UserLogin {
  /** The username; a change replaces the user. */
  readonly name: string;
  /** Prefer `passwordSecret`: a plain password ends up in the template. Cannot change after creation. */
  readonly password?: string;
  /** The secret's ARN (never its value) is passed to the function, which reads it at create time. */
  readonly passwordSecret?: secretsmanager.ISecret;
  /** A key of the secret's JSON holding the password; default: the whole secret string. */
  readonly passwordSecretKey?: string;
  /** The user's id in the instance's directory (SAML or existing directory); cannot change after creation. */
  readonly directoryUserId?: string;
  /**
   * Take over an existing user instead of creating one: `<instance-id>:<user-id>` or the user's ARN (from
   * `connect-users export`). While it is set, deleting the resource (or the stack) keeps the user in Connect and
   * only removes this resource's own tags; remove it to hand the user to the stack. No password is applied.
   */
  readonly importId?: string;
}

/** The settings of a user that may change in place. */
export interface UserSettings {
  readonly hierarchyGroupId?: string;
  readonly identityInfo?: IdentityInfo;
  readonly phoneConfig?: PhoneConfig;
  readonly tags?: { [key: string]: string };
  readonly autoAcceptConfigs?: AutoAcceptConfig[];
  readonly afterContactWorkConfigs?: AfterContactWorkConfig[];
  readonly phoneNumberConfigs?: PhoneNumberConfig[];
  readonly persistentConnectionConfigs?: PersistentConnectionConfig[];
  readonly voiceEnhancementConfigs?: VoiceEnhancementConfig[];
  readonly userProficiencies?: UserProficiency[];
}
