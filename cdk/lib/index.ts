/**
 * Typed CDK constructs for connect-user-resource (a jsii library: the same API in TypeScript, Python and the other
 * CDK languages), so that CDK users get checked, camelCase props instead of an untyped property bag.
 */
export * from './provider';
export * from './settings';
export * from './user';
export * from './set';
