import { S3CredentialsIncompleteError } from './errors.js';

/** The credential variables as the module's configuration read them (each with Weaviate's alternative). */
export interface CredentialValues {
  readonly accessKeyId?: string | undefined;
  readonly secretAccessKey?: string | undefined;
  readonly sessionToken?: string | undefined;
}

/** Static AWS credentials, as the S3 client takes them. */
export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Said in logs and errors when static keys are used. Names variables, never values. */
export const STATIC_SOURCE = 'static keys from AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY) and AWS_SECRET_ACCESS_KEY';

/**
 * Static credentials when both key id and secret are set (Weaviate's order since v1.18: explicit keys
 * first, which avoids the instance-metadata round trip); undefined to use the SDK's default chain.
 *
 * @throws S3CredentialsIncompleteError when only one of the two is set.
 */
export function staticCredentials(values: CredentialValues): StaticCredentials | undefined {
  const { accessKeyId, secretAccessKey, sessionToken } = values;
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  if (accessKeyId === undefined) throw new S3CredentialsIncompleteError('AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID');
  if (secretAccessKey === undefined) {
    throw new S3CredentialsIncompleteError('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY');
  }
  return { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) };
}

/** The SDK's credential feature flags (`$source`), in words a user can act on. */
const SOURCES: ReadonlyArray<readonly [string, string]> = [
  ['CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN', 'web identity token (AWS_WEB_IDENTITY_TOKEN_FILE, e.g. EKS IRSA)'],
  ['CREDENTIALS_PROFILE_STS_WEB_ID_TOKEN', 'web identity token from the shared config profile'],
  ['CREDENTIALS_ENV_VARS', 'environment variables'],
  ['CREDENTIALS_PROFILE', 'shared config profile (AWS_PROFILE, ~/.aws)'],
  ['CREDENTIALS_SSO', 'IAM Identity Center (SSO) session'],
  ['CREDENTIALS_PROCESS', 'credential_process'],
  ['CREDENTIALS_HTTP', 'container credentials endpoint (ECS task role, EKS Pod Identity)'],
  ['CREDENTIALS_IMDS', 'EC2 instance profile (instance metadata)'],
];

/** Where the SDK's default chain found `identity`, for logs; names sources, never values. */
export function chainSource(identity: object): string {
  const flags = Object.keys((identity as { $source?: Record<string, unknown> }).$source ?? {});
  const known = SOURCES.find(([flag]) => flags.includes(flag));
  return `the AWS SDK default chain: ${known?.[1] ?? (flags.join(', ') || 'an unnamed provider')}`;
}
