import type { Command } from 'commander';

/** `config`, `daemon` and `status`: the nightly producer as a service (defined by the service work). */
export function registerServiceCommands(program: Command): void {
  void program;
}
