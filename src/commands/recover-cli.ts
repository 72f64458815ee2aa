import type { Command } from 'commander';

/** `recover`: the recovery wizard (defined by the wizard work). */
export function registerRecoverCommand(program: Command): void {
  void program;
}
