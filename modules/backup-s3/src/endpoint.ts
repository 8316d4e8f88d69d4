import { ConfigValueError } from '@strata/core';

/** AWS's global endpoint, Weaviate's default for `BACKUP_S3_ENDPOINT`. */
export const AWS_ENDPOINT = 's3.amazonaws.com';

/**
 * Checks a `BACKUP_S3_ENDPOINT` value: Weaviate's `host[:port]` form, or a full `http(s)://host[:port]`
 * URL (which many S3-compatible stores document). Returns it trimmed, without a trailing slash.
 */
export function parseEndpoint(raw: string): string {
  const value = raw.trim().replace(/\/+$/, '');
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
  let url: URL;
  try {
    url = new URL(hasScheme ? value : `https://${value}`);
  } catch {
    throw new ConfigValueError({ expected: 'host[:port] (such as s3.amazonaws.com or minio:9000) or an http(s) URL' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigValueError({
      problem: `the scheme ${url.protocol}// is not supported`,
      fix: 'use http:// or https://',
    });
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigValueError({
      problem: 'the endpoint must not contain credentials',
      fix: 'use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    });
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new ConfigValueError({
      problem: 'the endpoint must be a host, not a path',
      fix: 'put the bucket in BACKUP_S3_BUCKET and the prefix in BACKUP_S3_PATH',
    });
  }
  return value;
}

/** The endpoint as the S3 client will use it, and what kind of store it is. */
export interface ResolvedEndpoint {
  /** The URL requests go to, e.g. `https://s3.amazonaws.com` or `http://minio:9000`. */
  readonly url: string;
  /** True for Amazon S3 itself (`*.amazonaws.com`), false for S3-compatible stores. */
  readonly aws: boolean;
  /** True for the global AWS endpoint, which the SDK replaces by the bucket's regional one. */
  readonly global: boolean;
}

/**
 * Adds the scheme to a `host[:port]` endpoint: https unless `BACKUP_S3_USE_SSL=false`. An endpoint
 * given as a URL keeps its own scheme.
 */
export function resolveEndpoint(endpoint: string, useSSL: boolean): ResolvedEndpoint {
  const hasScheme = /^https?:\/\//i.test(endpoint);
  const url = new URL(hasScheme ? endpoint : `${useSSL ? 'https' : 'http'}://${endpoint}`);
  const host = url.hostname.toLowerCase();
  const aws = /(^|\.)amazonaws\.com(\.cn)?$/.test(host);
  return { url: url.origin, aws, global: host === AWS_ENDPOINT && url.protocol === 'https:' && url.port === '' };
}
