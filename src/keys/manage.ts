/** `keys list` and `keys remove`: who is enrolled, and ending the key of an admin who left. */
import { LrError } from '../errors.js';
import { connect } from '../db/connect.js';
import type { Dsn } from '../db/dsn.js';
import { log } from '../log.js';
import { chooseRecipients, type KeyProblem, type KeyState } from './choose.js';
import { deleteKey, listKeyring } from './keyring.js';
import { noProducerStore, openProducerStore, peekProducerStore } from './producer.js';

export interface KeyListing {
  /** This server's producer key fingerprint, or null when no admin has enrolled here yet. */
  producerKey: string | null;
  admins: { userNum: number; userName: string; lastLoginAt: string | null; state: KeyState; enrolledAt: string | null; pinned: boolean; mismatch: string | null }[];
  /** Keys of users who are no longer visible security admins (they left, or lost the permission). */
  others: { userNum: number; userName: string; enrolledAt: string }[];
  recovery: { createdAt: string; fingerprint: string } | null;
  /** Whose password tonight's backup would open with. */
  tonight: string | null;
  problems: KeyProblem[];
}

export async function listKeys(opts: { source: Dsn; producerKeyFile?: string }): Promise<KeyListing> {
  const found = await peekProducerStore(opts.producerKeyFile);
  const store = found ?? noProducerStore(opts.producerKeyFile);
  const conn = await connect(opts.source);
  try {
    const choice = await chooseRecipients(conn, store, opts.source.database);
    const pins = store.pins(opts.source.database);
    const adminNums = new Set(choice.admins.map((s) => s.admin.userNum));
    const others = new Map<number, { userNum: number; userName: string; enrolledAt: string }>();
    for (const p of Object.values(pins.admins)) if (!adminNums.has(p.userNum)) others.set(p.userNum, { userNum: p.userNum, userName: p.userName, enrolledAt: p.enrolledAt });
    for (const r of await listKeyring(conn)) if (!adminNums.has(r.userNum) && !others.has(r.userNum)) others.set(r.userNum, { userNum: r.userNum, userName: r.userName, enrolledAt: r.enrolledAt });
    return {
      producerKey: found?.fingerprint ?? null,
      admins: choice.admins.map((s) => ({ userNum: s.admin.userNum, userName: s.admin.userName, lastLoginAt: s.admin.lastLoginAt, state: s.state, enrolledAt: s.pin?.enrolledAt ?? null, pinned: s.pin !== null, mismatch: s.mismatch ?? null })),
      others: [...others.values()],
      recovery: pins.recovery ? { createdAt: pins.recovery.createdAt, fingerprint: pins.recovery.fingerprint } : null,
      tonight: choice.chosen?.admin.userName ?? null,
      problems: choice.problems,
    };
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

/** Removes an admin's key from the producer's pins and from the keyring: backups from now on are not made for them. */
export async function removeKey(opts: { source: Dsn; userName: string; producerKeyFile?: string }): Promise<{ userNum: number; userName: string }> {
  const store = await openProducerStore({ path: opts.producerKeyFile, create: false });
  const conn = await connect(opts.source);
  try {
    const pins = store.pins(opts.source.database);
    const pinned = Object.values(pins.admins).find((p) => p.userName === opts.userName);
    const row = (await listKeyring(conn)).find((r) => r.userName === opts.userName);
    const userNum = pinned?.userNum ?? row?.userNum;
    if (userNum === undefined) throw new LrError('LR_USAGE', `${JSON.stringify(opts.userName)} has no backup key here. See who has one with: lastresort keys list --source DSN`);
    await store.update(opts.source.database, (p) => void delete p.admins[String(userNum)]);
    await deleteKey(conn, userNum);
    log('keys').info({ userNum }, 'admin key removed');
    return { userNum, userName: opts.userName };
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}
