// An S3-compatible server for tests: s3rver (a Koa app that stores objects in a local folder) on
// a free port of 127.0.0.1, with one bucket. It speaks the S3 REST API path-style and knows one
// access key, S3RVER (it does not verify SigV4 signatures, so the secret is not checked); README
// "Artifacts across machines" lists what else it does not cover compared with real S3.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { S3ArtifactStore } from '@fleet/artifacts';

export interface TestS3 {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  bucket: string;
  /** What a process needs to reach it through the AWS SDK's own variables. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startTestS3(bucket = 'fleet-test'): Promise<TestS3> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'fleet-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: { AWS_ENDPOINT_URL_S3: endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' },
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** A store on the test server, configured in code rather than through the AWS variables. */
export function s3StoreOn(server: TestS3, prefix: string, extra: { credentials?: { accessKeyId: string; secretAccessKey: string }; bucket?: string } = {}): S3ArtifactStore {
  return new S3ArtifactStore({
    bucket: extra.bucket ?? server.bucket,
    prefix,
    forcePathStyle: true,
    env: {},
    client: { endpoint: server.endpoint, credentials: extra.credentials ?? { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } },
  });
}
