/** Names the hostile vectors aim at, shared by make-hostile.ts and the test that restores them. */
export const CANARY = 'lr_hostile_canary';
export const HOSTILE_ACCOUNT = 'lr_hostile_user';
export const OUTFILE = '/tmp/lr_hostile_outfile.txt';
export const DATADIR = '/tmp/lr_hostile_datadir';

export interface HostileSpec {
  file: string;
  /** How it was made. */
  note: string;
  /** Tables and objects a restore must refuse (and name in its report). */
  refused: string[];
}
