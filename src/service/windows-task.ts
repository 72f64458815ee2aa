/**
 * The nightly producer on Windows: a Task Scheduler task (schtasks.exe), not
 * a service, because a Windows service must answer the Service Control
 * Manager's protocol, which a Node program cannot without a native helper.
 * The task starts at boot as SYSTEM, runs `lastresort daemon` with no time
 * limit (the daemon itself waits for the backup window), restarts it if it
 * fails, and runs below normal priority so the practice is never slowed.
 */
import { win32 } from 'node:path';

export const TASK_NAME = 'lastresort nightly backup';

export function schtasksPath(env: NodeJS.ProcessEnv = process.env): string {
  return win32.join(env.SystemRoot ?? env.windir ?? 'C:\\Windows', 'System32', 'schtasks.exe');
}

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One argument as Windows' command-line parser (CommandLineToArgvW) reads it back. */
export function windowsArg(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  return `"${arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1')}"`;
}

export interface TaskSpec {
  /** The program: lastresort.exe itself (process.execPath in the single executable). */
  command: string;
  /** Its arguments, before `daemon` (the script, when run by a node.exe). */
  leading: string[];
  configPath: string;
}

/** The task definition schtasks /Create /XML takes (it must be UTF-16: see taskXmlBytes). */
export function taskXml(spec: TaskSpec): string {
  const args = [...spec.leading, 'daemon', '--config', spec.configPath].map(windowsArg).join(' ');
  return `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo><Description>lastresort: nightly encrypted backup of the Open Dental database</Description></RegistrationInfo>
  <Triggers><BootTrigger><Enabled>true</Enabled></BootTrigger></Triggers>
  <Principals><Principal id="Author"><UserId>S-1-5-18</UserId><RunLevel>HighestAvailable</RunLevel></Principal></Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <StartWhenAvailable>true</StartWhenAvailable>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure><Interval>PT1M</Interval><Count>999</Count></RestartOnFailure>
    <Priority>7</Priority>
    <Enabled>true</Enabled>
  </Settings>
  <Actions Context="Author"><Exec><Command>${xmlText(spec.command)}</Command><Arguments>${xmlText(args)}</Arguments></Exec></Actions>
</Task>
`;
}

/** UTF-16 little-endian with its byte-order mark, as schtasks expects. */
export function taskXmlBytes(xml: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml.replace(/\n/g, '\r\n'), 'utf16le')]);
}

export const SCHTASKS = {
  create: (xmlFile: string) => ['/Create', '/TN', TASK_NAME, '/XML', xmlFile, '/F'],
  run: () => ['/Run', '/TN', TASK_NAME],
  end: () => ['/End', '/TN', TASK_NAME],
  remove: () => ['/Delete', '/TN', TASK_NAME, '/F'],
  query: () => ['/Query', '/TN', TASK_NAME, '/FO', 'CSV', '/NH'],
};

/** The task's state from `schtasks /Query /FO CSV /NH`: "name","next run","Status" (English Windows words; others shown as they are). */
export function parseQuery(csv: string): { found: boolean; state: string | null } {
  const line = csv.split(/\r?\n/).find((l) => l.includes(TASK_NAME));
  if (!line) return { found: false, state: null };
  const cells = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
  return { found: true, state: cells[2] ?? null };
}
