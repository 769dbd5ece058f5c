import { ConfigError } from '../core/errors.js';
import type { ProviderAdapter } from './adapter.js';
import { anthropicAdapter, compatibleAdapters, jsonAdapter, openaiAdapter } from './builtin-adapters.js';

const adapters = new Map<string, ProviderAdapter>();
for (const a of [openaiAdapter, anthropicAdapter, jsonAdapter, ...compatibleAdapters]) adapters.set(a.name, a);

const NAME = /^[a-z0-9][a-z0-9._-]*$/;

/**
 * Adds a provider adapter, so `model('<name>/<model>')` resolves to it. A name already taken is
 * an `E_CONFIG` unless `replace` is set (built-ins can be replaced that way).
 */
export function register(adapter: ProviderAdapter, options: { replace?: boolean } = {}): void {
  const issues = [];
  if (typeof adapter !== 'object' || adapter === null) throw new ConfigError('provider adapter', [{ path: '/', rule: 'type', message: 'must be an object' }]);
  if (typeof adapter.name !== 'string' || !NAME.test(adapter.name)) issues.push({ path: '/name', rule: 'pattern', message: `must match ${NAME.source}` });
  if (typeof adapter.service !== 'function') issues.push({ path: '/service', rule: 'type', message: 'must be a function returning a service' });
  if (adapter.defaultLimits !== undefined && typeof adapter.defaultLimits !== 'function') issues.push({ path: '/defaultLimits', rule: 'type', message: 'must be a function' });
  if (issues.length === 0 && adapters.has(adapter.name) && options.replace !== true) {
    issues.push({ path: '/name', rule: 'unique', message: `provider '${adapter.name}' is already registered (pass { replace: true } to replace it)` });
  }
  if (issues.length > 0) throw new ConfigError('provider adapter', issues);
  adapters.set(adapter.name, adapter);
}

/** Names of the registered providers, sorted. */
export function providers(): string[] {
  return [...adapters.keys()].sort();
}

export interface Resolved {
  adapter: ProviderAdapter;
  model: string;
}

/**
 * `provider/model` -> its adapter and the model name (which may itself contain `/`). A name
 * whose prefix is no provider resolves only with a `baseURL`: the adapter whose host it is, else
 * `openai` (any OpenAI-compatible server), and the whole name is the model.
 */
export function resolveModel(id: string, baseURL?: string): Resolved {
  if (typeof id !== 'string' || id.length === 0) {
    throw new ConfigError('model', [{ path: '/id', rule: 'minLength', message: "must be a non-empty string like 'openai/gpt-4o-mini'" }]);
  }
  const slash = id.indexOf('/');
  const prefix = slash > 0 ? id.slice(0, slash) : undefined;
  const known = prefix === undefined ? undefined : adapters.get(prefix);
  if (known !== undefined) {
    const model = id.slice(slash + 1);
    if (model.length === 0) throw new ConfigError('model', [{ path: '/id', rule: 'format', message: `'${id}' names no model after '${prefix}/'` }]);
    return { adapter: known, model };
  }
  if (baseURL !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(baseURL);
    } catch {
      url = undefined;
    }
    const byHost = url === undefined ? undefined : [...adapters.values()].find((a) => a.matchesBaseURL?.(url));
    return { adapter: byHost ?? adapters.get('openai')!, model: id };
  }
  throw new ConfigError('model', [
    {
      path: '/id',
      rule: 'provider',
      message: `unknown provider ${prefix === undefined ? `(no 'provider/' prefix in '${id}')` : `'${prefix}'`}; known: ${providers().join(', ')} (or pass a baseURL for any OpenAI-compatible server, or register() an adapter)`,
    },
  ]);
}
