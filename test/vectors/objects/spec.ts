/** Names the hostile-object vectors aim at, shared by make-objects.ts and the test that restores them. */
export const OBJECTS_CANARY = 'lr_objects_canary';
export const OBJECTS_ACCOUNT = 'lr_objects_backdoor';
export const OBJECTS_LOG = '/tmp/lr_objects_general.log';

export interface ObjectVectorSpec {
  file: string;
  /** How it was made. */
  note: string;
  /** Objects a restore must refuse, and name in its report. */
  refused: string[];
  /** Objects that cannot be created because they use a refused one (reported with the server's error). */
  dependents?: string[];
}
