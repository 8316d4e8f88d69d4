import { join } from 'node:path';

/** Where s3rver keeps the parts of multipart uploads in progress in `bucket`. */
export function uploadsDir(directory: string, bucket: string): string {
  return join(directory, bucket, '._S3rver_uploads');
}
