/**
 * `vendor init`: a bucket where each night's file cannot be deleted or
 * shortened for the retention period, even with the practice's own key:
 * versioning, Object Lock (COMPLIANCE) by default on every new object, and a
 * lifecycle that removes old versions once their lock has run out and
 * uploads that never finished.
 */
import { BucketVersioningStatus, CreateBucketCommand, PutBucketLifecycleConfigurationCommand, PutBucketVersioningCommand, PutObjectLockConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import { LrError } from '../errors.js';
import { storeErrorOf } from './client.js';

export interface InitResult {
  created: boolean;
  retainDays: number;
  lifecycle: boolean;
}

export const DEFAULT_RETAIN_DAYS = 35;
/** Unfinished uploads (a practice's key may not abort them) are removed after this. */
export const ABORT_INCOMPLETE_DAYS = 3;

export async function initBucket(client: S3Client, bucket: string, retainDays: number): Promise<InitResult> {
  if (!Number.isInteger(retainDays) || retainDays < 1 || retainDays > 3650) throw new LrError('LR_USAGE', '--retain-days must be a whole number of days from 1 to 3650.');
  let created = true;
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  } catch (err) {
    if (storeErrorOf(err).name !== 'BucketAlreadyOwnedByYou') throw err;
    created = false; // already ours: make sure the rest is set
  }
  await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: BucketVersioningStatus.Enabled } }));
  try {
    await client.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: retainDays } } } }));
  } catch (err) {
    if (storeErrorOf(err).name === 'InvalidBucketState') throw new LrError('LR_USAGE', `The bucket ${bucket} was made without Object Lock, which cannot be turned on later here. Use a new bucket name with vendor init.`, { cause: err });
    throw err;
  }
  await client.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: {
        Rules: [
          { ID: 'lastresort-old-versions', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: retainDays } },
          { ID: 'lastresort-unfinished-uploads', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: ABORT_INCOMPLETE_DAYS } },
        ],
      },
    }),
  );
  return { created, retainDays, lifecycle: true };
}
