import { readSetting, type EnvRecord } from '../config/config.js';
import type { SettingName } from '../config/settings.js';
import { AaosError, ErrorCode } from '../errors/index.js';
import { AnthropicProvider, anthropicContextTokens } from './anthropic.js';
import { OpenAICompatProvider, openAICompatContextTokens } from './openai-compat.js';
import { ScriptedProvider } from './scripted.js';
import type { ModelProvider } from './model.js';
import { providerTimeoutsFromEnv, type ProviderTimeouts } from './provider-call.js';

export type ProviderId = 'anthropic' | 'openai' | 'deepseek' | 'ollama' | 'scripted';

/** Where one manifest model string goes. */
export interface ModelRoute {
  /** the model string actually used (after AAOS_MODEL_OVERRIDE) */
  spec: string;
  provider: ProviderId;
  /** the model id the provider sees (prefix stripped; for scripted, the file) */
  model: string;
}

const ACCEPTED_MODEL_FORMS = [
  'claude-* (Anthropic)',
  'gpt-*, o1*, o3*, o4*, ... (OpenAI)',
  'openai:<model> (OpenAI)',
  'deepseek-* (DeepSeek)',
  'ollama:<model> (local OpenAI-compatible server at OLLAMA_BASE_URL)',
  'scripted:<absolute file> (offline scripted model)',
] as const;

/** The env var that must hold a key; ollama and scripted need none. */
export const PROVIDER_KEY_ENV: Record<ProviderId, SettingName | undefined> = {
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  deepseek: 'DEEPSEEK_API_KEY',
  ollama: undefined,
  scripted: undefined,
};

/** OLLAMA_BASE_URL has no default in the settings table: setting it is what makes ollama available. */
const OLLAMA_DEFAULT_BASE_URL = 'http://127.0.0.1:11434/v1';

/** A text setting through the settings table (empty counts as unset: `FOO= agentd` should not look configured). */
function envValue(env: EnvRecord, name: SettingName): string | undefined {
  const value = readSetting(env, name);
  return typeof value === 'string' ? value : undefined;
}

function unknownModel(spec: string, why: string): AaosError {
  return new AaosError(
    ErrorCode.MODEL_UNKNOWN,
    `unknown model '${spec}': ${why}; accepted forms: ${ACCEPTED_MODEL_FORMS.join('; ')}`,
    { model: spec, accepted: [...ACCEPTED_MODEL_FORMS] },
  );
}

const PREFIXED: Array<[string, ProviderId]> = [
  ['scripted:', 'scripted'],
  ['openai:', 'openai'],
  ['ollama:', 'ollama'],
];

/** Pure routing by the model string; AAOS_MODEL_OVERRIDE (when set) replaces every agent's model. */
export function routeModel(manifestModel: string, env: EnvRecord = {}): ModelRoute {
  const override = envValue(env, 'AAOS_MODEL_OVERRIDE');
  const spec = (override ?? manifestModel).trim();
  for (const [prefix, provider] of PREFIXED) {
    if (spec.startsWith(prefix)) {
      const model = spec.slice(prefix.length).trim();
      if (model === '') throw unknownModel(spec, `nothing after '${prefix}'`);
      return { spec, provider, model };
    }
  }
  if (spec.startsWith('claude-')) return { spec, provider: 'anthropic', model: spec };
  if (spec.startsWith('deepseek-')) return { spec, provider: 'deepseek', model: spec };
  if (spec.startsWith('gpt-') || /^o\d/.test(spec)) return { spec, provider: 'openai', model: spec };
  throw unknownModel(
    spec,
    override !== undefined ? 'set by AAOS_MODEL_OVERRIDE, routes to no provider' : 'routes to no provider',
  );
}

export interface ModelRoutesOptions {
  /** total and idle-body limits of the real providers' calls (default: from the env) */
  timeouts?: ProviderTimeouts;
}

/**
 * Routes model strings and owns one provider instance per provider id (created on first
 * use, so a missing key only matters to agents that need it). Keys are read from the
 * env given here, never from process.env behind the caller's back.
 */
export class ModelRoutes {
  readonly scripted = new ScriptedProvider();
  private readonly providers = new Map<ProviderId, ModelProvider>();

  constructor(
    private readonly env: EnvRecord,
    private readonly options: ModelRoutesOptions = {},
  ) {
    this.providers.set('scripted', this.scripted);
  }

  route(manifestModel: string): ModelRoute {
    return routeModel(manifestModel, this.env);
  }

  /** Route and get the provider; MODEL_UNAVAILABLE names the env var to set when its key is missing. */
  resolve(manifestModel: string): { route: ModelRoute; provider: ModelProvider } {
    const route = this.route(manifestModel);
    let provider = this.providers.get(route.provider);
    if (!provider) {
      provider = this.create(route);
      this.providers.set(route.provider, provider);
    }
    return { route, provider };
  }

  maxContextTokens(manifestModel: string): number {
    const route = this.route(manifestModel);
    switch (route.provider) {
      case 'anthropic':
        return anthropicContextTokens(route.model);
      case 'scripted':
        return this.scripted.maxContextTokens(route.model);
      default:
        return openAICompatContextTokens(route.provider, route.model);
    }
  }

  /** Providers usable right now (key present, or none needed). */
  available(): ProviderId[] {
    const out: ProviderId[] = [];
    for (const id of ['anthropic', 'openai', 'deepseek'] as const) {
      if (envValue(this.env, PROVIDER_KEY_ENV[id] as SettingName)) out.push(id);
    }
    if (envValue(this.env, 'OLLAMA_BASE_URL')) out.push('ollama');
    out.push('scripted');
    return out;
  }

  private create(route: ModelRoute): ModelProvider {
    const timeout = { timeouts: this.options.timeouts ?? providerTimeoutsFromEnv(this.env) };
    const id = route.provider;
    if (id === 'scripted') return this.scripted;
    if (id === 'ollama') {
      const apiKey = envValue(this.env, 'OLLAMA_API_KEY');
      return new OpenAICompatProvider({
        id,
        baseURL: envValue(this.env, 'OLLAMA_BASE_URL') ?? OLLAMA_DEFAULT_BASE_URL,
        ...(apiKey ? { apiKey, keyEnv: 'OLLAMA_API_KEY' } : {}),
        ...timeout,
      });
    }
    const keyEnv = PROVIDER_KEY_ENV[id] as SettingName;
    const apiKey = envValue(this.env, keyEnv);
    const baseEnv = keyEnv.replace('_API_KEY', '_BASE_URL') as SettingName;
    if (!apiKey) {
      throw new AaosError(
        ErrorCode.MODEL_UNAVAILABLE,
        `model '${route.spec}' needs the ${id} provider, but ${keyEnv} is not set: set ${keyEnv} (and ${baseEnv} for a non-default endpoint), or use a scripted:<file> model to run offline`,
        { model: route.spec, provider: id, env: keyEnv },
      );
    }
    const baseURL = envValue(this.env, baseEnv) as string; // defaults in the settings table
    if (id === 'anthropic') return new AnthropicProvider({ apiKey, baseURL, ...timeout });
    return new OpenAICompatProvider({ id, apiKey, baseURL, keyEnv, ...timeout });
  }
}
