import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors/index.js';
import { ModelRoutes, routeModel } from '../../src/providers/routing.js';

describe('routeModel', () => {
  it.each([
    ['claude-sonnet-4-5', 'anthropic', 'claude-sonnet-4-5'],
    ['claude-haiku-4-5-20251001', 'anthropic', 'claude-haiku-4-5-20251001'],
    ['deepseek-chat', 'deepseek', 'deepseek-chat'],
    ['deepseek-reasoner', 'deepseek', 'deepseek-reasoner'],
    ['gpt-4o', 'openai', 'gpt-4o'],
    ['gpt-5-mini', 'openai', 'gpt-5-mini'],
    ['o1-preview', 'openai', 'o1-preview'],
    ['o3', 'openai', 'o3'],
    ['o4-mini', 'openai', 'o4-mini'],
    ['openai:ft:gpt-4o:acme', 'openai', 'ft:gpt-4o:acme'],
    ['ollama:llama3.2:3b', 'ollama', 'llama3.2:3b'],
    ['scripted:/abs/model.yaml', 'scripted', '/abs/model.yaml'],
  ])('%s → %s', (spec, provider, model) => {
    expect(routeModel(spec, {})).toEqual({ spec, provider, model });
  });

  it.each(['llama3', 'omega', 'mistral-large', 'openai:', 'Claude-3'])(
    '%s → MODEL_UNKNOWN listing the accepted forms',
    (spec) => {
      expect(() => routeModel(spec, {})).toThrowError(
        expect.objectContaining({
          code: ErrorCode.MODEL_UNKNOWN,
          message: expect.stringMatching(/accepted forms: claude-\*.*scripted:<absolute file>/),
        }),
      );
    },
  );

  it('AAOS_MODEL_OVERRIDE maps every agent to one model', () => {
    const env = { AAOS_MODEL_OVERRIDE: 'scripted:/tmp/all.yaml' };
    expect(routeModel('claude-sonnet-4-5', env)).toEqual({
      spec: 'scripted:/tmp/all.yaml',
      provider: 'scripted',
      model: '/tmp/all.yaml',
    });
    expect(routeModel('anything-at-all', env).provider).toBe('scripted');
    expect(routeModel('gpt-4o', { AAOS_MODEL_OVERRIDE: '' }).provider).toBe('openai');
    expect(() => routeModel('gpt-4o', { AAOS_MODEL_OVERRIDE: 'bogus' })).toThrow(/AAOS_MODEL_OVERRIDE/);
  });
});

describe('ModelRoutes', () => {
  it.each([
    ['claude-sonnet-4-5', 'ANTHROPIC_API_KEY'],
    ['gpt-4o', 'OPENAI_API_KEY'],
    ['openai:gpt-4.1', 'OPENAI_API_KEY'],
    ['deepseek-chat', 'DEEPSEEK_API_KEY'],
  ])('%s without a key → MODEL_UNAVAILABLE naming %s', (spec, env) => {
    const router = new ModelRoutes({ [env]: '  ' });
    expect(() => router.resolve(spec)).toThrowError(
      expect.objectContaining({
        code: ErrorCode.MODEL_UNAVAILABLE,
        message: expect.stringContaining(`${env} is not set`),
        details: expect.objectContaining({ env }),
      }),
    );
  });

  it('creates each provider once; ollama and scripted need no key', () => {
    const router = new ModelRoutes({ ANTHROPIC_API_KEY: 'k' });
    const a = router.resolve('claude-a').provider;
    expect(router.resolve('claude-b').provider).toBe(a);
    expect(a.id).toBe('anthropic');
    expect(router.resolve('ollama:qwen').provider.id).toBe('ollama');
    expect(router.resolve('scripted:/x.yaml').provider).toBe(router.scripted);
    expect(router.available()).toEqual(['anthropic', 'scripted']);
  });

  it('knows context windows without needing keys', () => {
    const router = new ModelRoutes({});
    expect(router.maxContextTokens('claude-sonnet-4-5')).toBe(200_000);
    expect(router.maxContextTokens('gpt-4o')).toBe(128_000);
    expect(router.maxContextTokens('gpt-4.1-mini')).toBe(1_047_576);
    expect(router.maxContextTokens('o3-mini')).toBe(200_000);
    expect(router.maxContextTokens('deepseek-chat')).toBe(128_000);
    expect(router.maxContextTokens('ollama:llama3')).toBe(32_768);
    expect(router.maxContextTokens('scripted:/x.yaml')).toBe(200_000);
  });
});
