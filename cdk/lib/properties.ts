/**
 * The mapping from the constructs' camelCase props to the resources' PascalCase properties, every scalar as a
 * string (the way CloudFormation passes them to the function anyway). Internal: not part of the jsii API.
 */
import type { UserLogin, UserSettings } from './settings';

export const str = (v: string | number | boolean | undefined): string | undefined => (v === undefined ? undefined : String(v));

/** Drops undefined members so the template carries only what was given; nothing left is undefined. */
export function compact(o: Record<string, unknown>): Record<string, unknown> | undefined {
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return Object.keys(out).length === 0 ? undefined : out;
}

/** A user's properties, or a set entry's (no instance), or a set's defaults (no login). */
export type UserFields = Partial<UserLogin> & UserSettings & {
  readonly instanceId?: string;
  readonly routingProfileId?: string;
  readonly securityProfileIds?: string[];
};

export function userProperties(p: UserFields): Record<string, unknown> | undefined {
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
  });
}
