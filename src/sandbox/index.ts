export { startSandbox, stopSandbox, sandboxStatus, DEFAULT_SANDBOX_DIR } from './sandbox.js';
export type { SandboxInfo, SandboxOptions, SandboxStatus } from './types.js';
export { parseTarget, type Target } from './target.js';
