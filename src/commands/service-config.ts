import { LrError } from '../errors.js';
import { printJson, say } from '../cli/output.js';
import { CONFIG_KEYS, loadConfig, redactSource, setConfigValue, valueFromText, type LoadedConfig } from '../service/config.js';
import { defaultConfigPath } from '../system/paths.js';

function shown(loaded: LoadedConfig): Record<string, unknown> {
  return { ...loaded.config, source: redactSource(loaded.config.source) };
}

export async function configShowCommand(o: { config?: string; json?: boolean }): Promise<void> {
  const loaded = await loadConfig(o.config ?? defaultConfigPath());
  const settings = shown(loaded);
  if (o.json) {
    printJson({ file: loaded.path, exists: loaded.exists, settings, defaults: CONFIG_KEYS.filter((k) => !(k in loaded.explicit)) });
    return;
  }
  say(`Settings file: ${loaded.path}${loaded.exists ? '' : ' (not created yet: all defaults)'}`);
  for (const key of CONFIG_KEYS) {
    const v = settings[key];
    const text = v === null ? '(none)' : Array.isArray(v) ? v.join(',') || '(none)' : typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v);
    say(`  ${key.padEnd(18)} ${text}${key in loaded.explicit ? '' : '   (default)'}`);
  }
}

export async function configSetCommand(key: string, value: string, o: { config?: string }): Promise<void> {
  const path = o.config ?? defaultConfigPath();
  const parsed = valueFromText(key, value);
  let loaded: LoadedConfig;
  try {
    loaded = await setConfigValue(path, parsed.key, parsed.value);
  } catch (err) {
    if (err instanceof LrError) throw err;
    throw new LrError('LR_IO', `Cannot save the settings to ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}). Run as the account that owns it, or choose another file with --config.`, { cause: err });
  }
  const now = shown(loaded)[parsed.key];
  say(parsed.value === undefined ? `${parsed.key} is back to its default (${JSON.stringify(now)}) in ${path}.` : `${parsed.key} = ${JSON.stringify(now)} saved in ${path}.`);
}
