export { startSandbox, stopSandbox, sandboxStatus, DEFAULT_SANDBOX_DIR, defaultSandboxDir } from './sandbox.js';
export { SANDBOX_ACCOUNT } from './account.js';
export type { SandboxInfo, SandboxOptions, SandboxStatus } from './types.js';
export { parseTarget, type Target } from './target.js';
