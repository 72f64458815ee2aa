import { defaultSandboxDir, sandboxStatus, startSandbox, stopSandbox } from '../sandbox/index.js';
import { printJson, say } from '../cli/output.js';

export async function sandboxStart(dir?: string): Promise<void> {
  const s = await startSandbox({ dir });
  say(`${s.reused ? 'The sandbox server was already running' : 'Started a sandbox server'} in ${s.dir}; it has no network port, only its socket ${s.socket}.`);
  say(`Connect: ${s.connectCommand}`);
  say(`Stop:    ${s.stopCommand}`);
}

export async function sandboxStop(given?: string): Promise<void> {
  const dir = given ?? (await defaultSandboxDir());
  const r = await stopSandbox(dir);
  say(r.stopped ? `Stopped the sandbox server in ${dir}; its data stays there (start it again with: lastresort sandbox start ${dir}).` : `No sandbox server is running in ${dir}.`);
}

export async function sandboxStatusCommand(dir: string | undefined, o: { json?: boolean }): Promise<void> {
  const s = await sandboxStatus(dir);
  if (o.json) printJson(s);
  else say(s.running ? `Running in ${s.dir} on socket ${s.socket} (pid ${s.pid}).` : `No sandbox server is running in ${s.dir}.`);
}
