/** docs/cli.md carries the JSON Schemas of the CLI's output as generated from src/cli/output.ts (`npm run docs:cli`). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliSchemaSection, replaceSchemaSection } from '../../src/cli/schema-docs.js';

describe('docs/cli.md', () => {
  it('has the current JSON Schemas of every command (run npm run docs:cli when this fails)', () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/cli.md'), 'utf8');
    expect(replaceSchemaSection(doc, cliSchemaSection())).toBe(doc);
  });
});
