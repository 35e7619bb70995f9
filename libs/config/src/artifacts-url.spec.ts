import { parseArtifactsUrl } from './artifacts-url.js';
import { ConfigError } from './config-error.js';
import { loadConfig } from './fleet-config.js';

describe('parseArtifactsUrl', () => {
  it('reads bucket and prefix of an s3 URL, slashes trimmed', () => {
    expect(parseArtifactsUrl('s3://fleet-artifacts/team/a/')).toEqual({ kind: 's3', url: 's3://fleet-artifacts/team/a', bucket: 'fleet-artifacts', prefix: 'team/a', forcePathStyle: false });
    expect(parseArtifactsUrl('s3://my.bucket.1')).toMatchObject({ bucket: 'my.bucket.1', prefix: '', url: 's3://my.bucket.1' });
  });

  it('uses path-style requests when a custom endpoint is set, unless told otherwise', () => {
    expect(parseArtifactsUrl('s3://b-1/p', { AWS_ENDPOINT_URL_S3: 'http://minio:9000' })).toMatchObject({ forcePathStyle: true });
    expect(parseArtifactsUrl('s3://b-1/p', { AWS_ENDPOINT_URL: 'http://ceph:7480' })).toMatchObject({ forcePathStyle: true });
    expect(parseArtifactsUrl('s3://b-1/p', { AWS_ENDPOINT_URL: 'http://ceph:7480', ARTIFACTS_S3_FORCE_PATH_STYLE: 'false' })).toMatchObject({ forcePathStyle: false });
    expect(parseArtifactsUrl('s3://b-1/p', { ARTIFACTS_S3_FORCE_PATH_STYLE: '1' })).toMatchObject({ forcePathStyle: true });
    expect(parseArtifactsUrl('s3://b-1/p', { AWS_ENDPOINT_URL: 'http://x', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' })).toMatchObject({ forcePathStyle: false });
  });

  it('takes file:///absolute/path as a shared folder', () => {
    expect(parseArtifactsUrl('file:///mnt/nfs/fleet%20artifacts/')).toEqual({ kind: 'dir', url: 'file:///mnt/nfs/fleet artifacts', dir: '/mnt/nfs/fleet artifacts' });
  });

  it.each([
    ['', 'ARTIFACTS_URL is empty'],
    ['fleet-bucket/prefix', 'ARTIFACTS_URL must look like s3://bucket/prefix or file:///absolute/path (got "fleet-bucket/prefix")'],
    ['http://minio:9000/bucket', 'ARTIFACTS_URL must look like s3://bucket/prefix or file:///absolute/path (got "http://")'],
    ['s3:///prefix', 'ARTIFACTS_URL names no bucket'],
    ['s3://ab', 'bucket "ab" must be 3 to 63 characters long'],
    ['s3://Fleet_Bucket', 'bucket "Fleet_Bucket" may hold only lowercase letters'],
    ['s3://my..bucket', 'must not contain ".."'],
    ['s3://192.168.1.10', 'must not look like an IP address'],
    ['s3://bucket:9000/p', 'must not have a port: the endpoint comes from AWS_ENDPOINT_URL_S3'],
    ['s3://key:secret@bucket/p', 'must not hold credentials'],
    ['s3://bucket/p?region=eu', 'must not have a query or fragment'],
    ['s3://bucket/a//b', 'empty, "." or ".." segment'],
    ['s3://bucket/a/../b', 'empty, "." or ".." segment'],
    ['s3://bucket/a/./b', 'empty, "." or ".." segment'],
    ['file://host/share', 'file URLs must be file:///absolute/path, with no host'],
    ['file:///', 'must not be the filesystem root'],
  ])('refuses %j with one line: %s', (raw, expected) => {
    let error: unknown;
    try {
      parseArtifactsUrl(raw);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(expected);
    expect((error as Error).message).not.toContain('\n');
  });

  it('refuses a bad ARTIFACTS_S3_FORCE_PATH_STYLE', () => {
    expect(() => parseArtifactsUrl('s3://bucket/p', { ARTIFACTS_S3_FORCE_PATH_STYLE: 'yes' })).toThrow('ARTIFACTS_S3_FORCE_PATH_STYLE must be true or false (got "yes")');
  });

  it('is part of loadConfig: unset means no store, a bad value stops the boot', () => {
    expect(loadConfig({}, '/').artifactStore).toBeUndefined();
    expect(loadConfig({ ARTIFACTS_URL: 's3://fleet-artifacts/prod' }, '/').artifactStore).toMatchObject({ kind: 's3', bucket: 'fleet-artifacts', prefix: 'prod' });
    expect(() => loadConfig({ ARTIFACTS_URL: 'gs://bucket' }, '/')).toThrow(ConfigError);
  });
});
