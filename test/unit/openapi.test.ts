import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildOpenApiDocument } from '../../src/server/openapi.js';

describe('docs/openapi.json', () => {
  it('matches the document generated from the zod schemas (run `npm run openapi` after changing them)', () => {
    const committed = JSON.parse(
      readFileSync(path.resolve(import.meta.dirname, '../../docs/openapi.json'), 'utf8'),
    ) as unknown;
    expect(committed).toEqual(
      JSON.parse(JSON.stringify(buildOpenApiDocument({ maxBodyBytes: loadConfig({}).http.maxBodyBytes }))),
    );
  });
});
