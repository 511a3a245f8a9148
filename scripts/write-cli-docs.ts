// Writes the JSON Schemas of the CLI's --format json output (src/cli/output.ts) into docs/cli.md,
// between the cli-schemas markers (a unit test fails when the committed copy is stale). `npm run docs:cli`.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cliSchemaSection, replaceSchemaSection } from '../src/cli/schema-docs.js';

const target = path.resolve(import.meta.dirname, '../docs/cli.md');
writeFileSync(target, replaceSchemaSection(readFileSync(target, 'utf8'), cliSchemaSection()));
process.stdout.write(`wrote ${target}\n`);
