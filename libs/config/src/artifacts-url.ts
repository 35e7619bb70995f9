// ARTIFACTS_URL: where run artifacts (checkpoints, model files) are shared between machines. Unset,
// ARTIFACTS_DIR itself is the store (a shared filesystem). Set, ARTIFACTS_DIR is each machine's
// local working folder and cache, and the store is an S3-compatible bucket (s3://bucket/prefix)
// or a folder that every machine mounts (file:///path). Pure: parsing only, no network.
import path from 'node:path';
import { ConfigError } from './config-error.js';

export type ArtifactsLocation =
  | {
      kind: 's3';
      /** normalised s3://bucket/prefix, for logs */
      url: string;
      bucket: string;
      /** key prefix without leading or trailing slash; '' for the bucket's root */
      prefix: string;
      /** path-style requests (http://host/bucket/key), as MinIO, Ceph RGW and s3rver expect by default */
      forcePathStyle: boolean;
    }
  | {
      kind: 'dir';
      url: string;
      /** absolute folder holding the objects */
      dir: string;
    };

type Env = Record<string, string | undefined>;

const VARIABLE = 'ARTIFACTS_URL';
const FORMS = 's3://bucket/prefix or file:///absolute/path';

// S3's bucket naming rules (general purpose buckets): 3-63 characters, lowercase letters, digits,
// dots and hyphens, starting and ending with a letter or digit, no "..", not an IPv4 address.
function bucketProblem(bucket: string): string | undefined {
  if (bucket.length < 3 || bucket.length > 63) return 'must be 3 to 63 characters long';
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket)) return 'may hold only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit';
  if (bucket.includes('..')) return 'must not contain ".."';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) return 'must not look like an IP address';
  return undefined;
}

/**
 * The key prefix of s3://bucket/<prefix>, taken literally as the AWS CLI does (no percent-decoding):
 * segments none of which is empty, "." or "..", no control characters or backslashes.
 */
function parsePrefix(raw: string, url: string): string {
  const trimmed = raw.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return '';
  for (const segment of trimmed.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') throw new ConfigError(VARIABLE, `has an empty, "." or ".." segment in its key prefix (got "${url}")`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(trimmed)) throw new ConfigError(VARIABLE, `key prefix must not contain control characters or backslashes (got "${url}")`);
  return trimmed;
}

function flag(env: Env, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, `must be true or false (got "${raw}")`);
}

/**
 * Parses ARTIFACTS_URL. Path-style addressing defaults to on when a custom endpoint is configured
 * (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, which the AWS SDK reads itself): MinIO, Ceph RGW and
 * s3rver need it unless set up with wildcard DNS; ARTIFACTS_S3_FORCE_PATH_STYLE overrides it.
 */
export function parseArtifactsUrl(raw: string, env: Env = {}): ArtifactsLocation {
  if (raw.trim() === '') throw new ConfigError(VARIABLE, 'is empty');
  // s3 URLs are split by hand: WHATWG URL parsing would resolve "a/../b" and keep the host's case.
  const s3 = /^s3:\/\/([^/?#]*)([^?#]*)$/.exec(raw);
  if (s3) {
    const authority = s3[1] as string;
    if (authority.includes('@')) throw new ConfigError(VARIABLE, 'must not hold credentials: use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile or an instance role');
    if (authority === '') throw new ConfigError(VARIABLE, `names no bucket: it must look like ${FORMS} (got "${raw}")`);
    if (authority.includes(':')) throw new ConfigError(VARIABLE, `must not have a port: the endpoint comes from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (got "${raw}")`);
    const problem = bucketProblem(authority);
    if (problem) throw new ConfigError(VARIABLE, `bucket "${authority}" ${problem}`);
    const prefix = parsePrefix(s3[2] as string, raw);
    const endpoint = env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true' ? undefined : (env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL);
    const forcePathStyle = flag(env, 'ARTIFACTS_S3_FORCE_PATH_STYLE') ?? (endpoint !== undefined && endpoint !== '');
    return { kind: 's3', url: `s3://${authority}${prefix ? `/${prefix}` : ''}`, bucket: authority, prefix, forcePathStyle };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(VARIABLE, `must look like ${FORMS} (got "${raw}")`);
  }
  if (url.protocol === 's3:') throw new ConfigError(VARIABLE, `must not have a query or fragment (got "${raw}")`);
  if (url.protocol !== 'file:') throw new ConfigError(VARIABLE, `must look like ${FORMS} (got "${url.protocol}//")`);
  if (url.search || url.hash) throw new ConfigError(VARIABLE, `must not have a query or fragment (got "${raw}")`);
  if (url.hostname !== '' || url.username) throw new ConfigError(VARIABLE, `file URLs must be file:///absolute/path, with no host (got "${raw}")`);
  const dir = path.resolve(decodeURIComponent(url.pathname));
  if (dir === path.parse(dir).root) throw new ConfigError(VARIABLE, 'must not be the filesystem root');
  return { kind: 'dir', url: `file://${dir}`, dir };
}
