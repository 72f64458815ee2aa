/**
 * The bucket policy statements that make a practice's key write-only on its
 * own folder: it may put objects there and nothing else; reading, listing,
 * deleting, changing ACLs or retention are denied explicitly, so even an
 * object the practice owns cannot be read back or removed with its key.
 */
import { GetBucketPolicyCommand, PutBucketPolicyCommand, type S3Client } from '@aws-sdk/client-s3';
import { LrError } from '../errors.js';
import { checkPracticeId, practicePrefix, type StoreLocation } from './location.js';

export const DENIED_TO_PRACTICE = [
  's3:GetObject',
  's3:GetObjectVersion',
  's3:DeleteObject',
  's3:DeleteObjectVersion',
  's3:ListBucket',
  's3:ListBucketVersions',
  's3:ListBucketMultipartUploads',
  's3:ListMultipartUploadParts',
  's3:AbortMultipartUpload',
  's3:GetObjectAcl',
  's3:PutObjectRetention',
  's3:PutObjectLegalHold',
  's3:BypassGovernanceRetention',
];

interface Statement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal: { AWS: string[] };
  Action: string[];
  Resource: string[];
}

export interface BucketPolicy {
  Version: '2012-10-17';
  Statement: Statement[];
}

const sidPrefix = (practiceId: string) => `Lastresort${practiceId.replace(/[^A-Za-z0-9]/g, '')}`;

export function checkUserArn(arn: string): string {
  if (!/^arn:aws:iam::[0-9A-Za-z_-]*:user\/[\w+=,.@/-]{1,128}$/.test(arn)) throw new LrError('LR_USAGE', `--user must be the practice key's user ARN, like arn:aws:iam::123456789012:user/practice-42, not ${JSON.stringify(arn).slice(0, 100)}.`);
  return arn;
}

export function practiceStatements(loc: StoreLocation, practiceId: string, userArn: string): Statement[] {
  checkPracticeId(practiceId, '--practice');
  const bucketArn = `arn:aws:s3:::${loc.bucket}`;
  const principal = { AWS: [checkUserArn(userArn)] };
  return [
    { Sid: `${sidPrefix(practiceId)}Put`, Effect: 'Allow', Principal: principal, Action: ['s3:PutObject'], Resource: [`${bucketArn}/${practicePrefix(loc, practiceId)}*`] },
    { Sid: `${sidPrefix(practiceId)}Deny`, Effect: 'Deny', Principal: principal, Action: DENIED_TO_PRACTICE, Resource: [bucketArn, `${bucketArn}/*`] },
  ];
}

export async function readBucketPolicy(client: S3Client, bucket: string): Promise<BucketPolicy> {
  try {
    const r = await client.send(new GetBucketPolicyCommand({ Bucket: bucket }));
    return JSON.parse(r.Policy ?? '') as BucketPolicy;
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchBucketPolicy') return { Version: '2012-10-17', Statement: [] };
    throw err;
  }
}

/** Replaces this practice's statements in the bucket's policy (others kept) and saves it. */
export async function applyPracticePolicy(client: S3Client, loc: StoreLocation, practiceId: string, userArn: string): Promise<BucketPolicy> {
  const current = await readBucketPolicy(client, loc.bucket);
  const mine = practiceStatements(loc, practiceId, userArn);
  const sids = new Set(mine.map((s) => s.Sid));
  const policy: BucketPolicy = { Version: '2012-10-17', Statement: [...(current.Statement ?? []).filter((s) => !sids.has(s.Sid)), ...mine] };
  await client.send(new PutBucketPolicyCommand({ Bucket: loc.bucket, Policy: JSON.stringify(policy) }));
  return policy;
}
