import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, requireRedisUrl } from '../../src/config.js';

const sha = 'a'.repeat(64);

describe('loadConfig', () => {
  it('applies defaults and runs in knowledge-driven mode without a model', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config.http).toEqual({
      host: '127.0.0.1',
      port: 8080,
      maxBodyBytes: 16 * 1024 * 1024,
      trustProxy: [],
      tls: null,
      hstsMaxAgeSeconds: 31_536_000,
    });
    expect(config.model).toEqual({ mode: 'knowledge-driven' });
    expect(config.redis).toEqual({ url: undefined, keyPrefix: 'co' });
    expect(config.database.sqlitePath).toBe('/srv/app/.data/clinical-orchestrator.sqlite');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('switches to LLM mode when a model is named', () => {
    const config = loadConfig({ OPENAI_MODEL: 'local-model', OPENAI_BASE_URL: 'http://127.0.0.1:9999/v1' });
    expect(config.model).toEqual({
      mode: 'llm',
      model: 'local-model',
      baseUrl: 'http://127.0.0.1:9999/v1',
      apiKey: undefined,
      timeoutMs: 60_000,
      maxRetries: 2,
      maxTokens: 8192,
    });
    const tuned = loadConfig({
      OPENAI_MODEL: 'm',
      OPENAI_BASE_URL: 'http://127.0.0.1:9999/v1',
      OPENAI_TIMEOUT_MS: '5000',
      OPENAI_MAX_RETRIES: '0',
      OPENAI_MAX_TOKENS: '1024',
    }).model;
    expect(tuned).toMatchObject({ timeoutMs: 5000, maxRetries: 0, maxTokens: 1024 });
    expect(() => loadConfig({ OPENAI_MODEL: 'm', OPENAI_BASE_URL: 'http://x/v1', OPENAI_TIMEOUT_MS: '10' })).toThrow(
      /OPENAI_TIMEOUT_MS/,
    );
  });

  it('parses service tokens as name and hash', () => {
    const config = loadConfig({ SERVICE_TOKENS: `ehr:${sha}, lab-gw:${'b'.repeat(64)}` });
    expect(config.auth.serviceTokens).toEqual([
      { name: 'ehr', sha256: sha },
      { name: 'lab-gw', sha256: 'b'.repeat(64) },
    ]);
  });

  it('parses staff tokens with roles, and where the knowledge base is seeded from', () => {
    const config = loadConfig({
      STAFF_TOKENS: `dr-a:${sha}:reviewer, kb-b:${'c'.repeat(64)}:kb_editor+reviewer+kb_editor`,
      KB_SEED: 'none',
    });
    expect(config.auth.staffTokens).toEqual([
      { name: 'dr-a', sha256: sha, roles: ['reviewer'] },
      { name: 'kb-b', sha256: 'c'.repeat(64), roles: ['kb_editor', 'reviewer'] },
    ]);
    expect(config.knowledgeBase.seed).toBeNull();
    expect(loadConfig({}).knowledgeBase).toEqual({
      sqlitePath: expect.stringMatching(/\.data\/knowledge-base\.sqlite$/) as unknown,
      seed: 'starter',
      renalWindowDays: 90,
    });
    expect(loadConfig({ RENAL_RESULT_WINDOW_DAYS: '30' }).knowledgeBase.renalWindowDays).toBe(30);
    expect(() => loadConfig({ RENAL_RESULT_WINDOW_DAYS: '0' })).toThrow(/RENAL_RESULT_WINDOW_DAYS/);
    expect(loadConfig({ KB_SEED: 'site/kb' }, '/srv/app').knowledgeBase.seed).toBe('/srv/app/site/kb');
  });

  it('parses the imaging settings: tool, overrides in pairs, service and DICOMweb', () => {
    const none = loadConfig({}, '/srv/app').imaging;
    expect(none).toMatchObject({
      baseUrl: undefined,
      modelName: 'pneumonia-cnn',
      threshold: undefined,
      indeterminateBand: undefined,
      dicomweb: null,
      breaker: { failures: 5, halfOpenAfterMs: 30_000 },
    });
    expect(none.service.modelDir).toBe('/srv/app/models/pneumonia-cnn/tfjs');
    const set = loadConfig({
      IMAGING_BASE_URL: 'http://triton:8000',
      IMAGING_THRESHOLD: '0.4',
      IMAGING_INDETERMINATE_LOW: '0.3',
      IMAGING_INDETERMINATE_HIGH: '0.6',
      DICOMWEB_BASE_URL: 'https://pacs.example.org/dicom-web',
      DICOMWEB_TOKEN: 'x',
    }).imaging;
    expect(set).toMatchObject({
      baseUrl: 'http://triton:8000',
      threshold: 0.4,
      indeterminateBand: [0.3, 0.6],
      dicomweb: { baseUrl: 'https://pacs.example.org/dicom-web', token: 'x' },
    });
    expect(() => loadConfig({ IMAGING_INDETERMINATE_LOW: '0.3' })).toThrow(/IMAGING_INDETERMINATE_HIGH: set both/);
    expect(() => loadConfig({ IMAGING_INDETERMINATE_LOW: '0.7', IMAGING_INDETERMINATE_HIGH: '0.2' })).toThrow(
      /IMAGING_INDETERMINATE_LOW: must not exceed/,
    );
    expect(() => loadConfig({ IMAGING_THRESHOLD: '1.5' })).toThrow(/IMAGING_THRESHOLD/);
    expect(() => loadConfig({ IMAGING_MODEL_NAME: '../etc' })).toThrow(/IMAGING_MODEL_NAME/);
  });

  it('refuses LangSmith tracing that would send case text out, unless hidden or to an allowed endpoint', () => {
    expect(() => loadConfig({ LANGSMITH_TRACING: 'true' })).toThrow(
      /LANGSMITH_TRACING: tracing would send case text to api\.smith\.langchain\.com/,
    );
    expect(() => loadConfig({ LANGCHAIN_TRACING_V2: 'true', LANGSMITH_HIDE_INPUTS: 'true' })).toThrow(ConfigError);
    expect(() =>
      loadConfig({ LANGSMITH_TRACING: 'true', LANGSMITH_HIDE_INPUTS: 'true', LANGSMITH_HIDE_OUTPUTS: 'true' }),
    ).not.toThrow();
    expect(() =>
      loadConfig({
        LANGSMITH_TRACING: 'true',
        LANGSMITH_ENDPOINT: 'https://langsmith.hospital.internal/api',
        TRACING_ENDPOINT_ALLOWLIST: 'langsmith.hospital.internal',
      }),
    ).not.toThrow();
  });

  it('never echoes a password in a URL it refuses', () => {
    for (const env of [{ REDIS_URL: 'http://user:s3cret@host:6379' }, { DATABASE_URL: 'mysql://u:s3cret@db/x' }]) {
      let message = '';
      try {
        loadConfig(env);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/\*\*\*@/);
      expect(message).not.toContain('s3cret');
    }
  });

  it('requires a decision-signing key in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/DECISION_SIGNING_KEY: required in production/);
  });

  it('trusts X-Forwarded-For only from the listed proxies', () => {
    expect(loadConfig({ TRUST_PROXY: '10.0.0.5, 10.1.0.0/16' }).http.trustProxy).toEqual(['10.0.0.5', '10.1.0.0/16']);
    expect(loadConfig({ TRUST_PROXY: 'false' }).http.trustProxy).toEqual([]);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ REDIS_URL: '', HTTP_PORT: ' ' }).http.port).toBe(8080);
  });

  it.each([
    ['HTTP_PORT', 'abc'],
    ['HTTP_PORT', '70000'],
    ['REDIS_URL', 'http://localhost:6379'],
    ['DATABASE_URL', 'mysql://x'],
    ['TRUST_PROXY', 'true'],
    ['KEY_PREFIX', 'Bad Prefix'],
    ['LOG_LEVEL', 'loud'],
    ['SERVICE_TOKENS', 'ehr:not-a-hash'],
    ['STAFF_TOKENS', `dr-a:${'a'.repeat(64)}`],
    ['STAFF_TOKENS', `dr-a:${'a'.repeat(64)}:superuser`],
    ['WORKER_CONCURRENCY', '0'],
    ['TRUST_PROXY', 'maybe'],
  ])('rejects %s=%s naming the variable', (variable, value) => {
    let error: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.problems.map((p) => p.variable)).toEqual([variable]);
    expect(configError.message).toContain(`${variable}:`);
  });

  it('keys webhook secrets by service, in order, and refuses a bare secret without echoing it', () => {
    const a = 'a'.repeat(32);
    const b = 'b'.repeat(40);
    const c = 'c'.repeat(32);
    const cfg = loadConfig({ WEBHOOK_SECRETS: `ehr-gateway:${a},ehr-gateway:${b},lab:${c}` });
    expect(cfg.delivery.secrets).toEqual({ 'ehr-gateway': [a, b], lab: [c] });
    for (const bad of [a, `ehr-gateway:${'x'.repeat(31)}`, `Bad Name:${a}`]) {
      let message = '';
      try {
        loadConfig({ WEBHOOK_SECRETS: bad });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/WEBHOOK_SECRETS.*service:secret/);
      expect(message).not.toContain('a'.repeat(32));
    }
  });

  it('refuses a staff token and a service token with the same name, and defaults sessions to a 15-minute idle timeout', () => {
    const h = 'a'.repeat(64);
    expect(() => loadConfig({ SERVICE_TOKENS: `gateway:${h}`, STAFF_TOKENS: `gateway:${h}:reviewer` })).toThrow(
      /STAFF_TOKENS: gateway: a staff token and a service token share the name/,
    );
    const cfg = loadConfig({});
    expect(cfg.sessions).toMatchObject({ idleSeconds: 900, ttlSeconds: 28_800 });
    expect(cfg.review.tokenDecisions).toBe(true);
    expect(loadConfig({ SESSION_TTL_SECONDS: '600' }).sessions.idleSeconds).toBe(600);
  });

  it('requires an API key for a remote model', () => {
    expect(() => loadConfig({ OPENAI_MODEL: 'gpt-x' })).toThrow(/OPENAI_API_KEY/);
  });

  it('does not echo secrets in errors', () => {
    try {
      loadConfig({ SERVICE_TOKENS: 'svc:supersecretvalue' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('supersecretvalue');
    }
  });

  it('requireRedisUrl explains what to do when REDIS_URL is missing', () => {
    expect(() => requireRedisUrl(loadConfig({}))).toThrow(/REDIS_URL: required/);
  });
});
