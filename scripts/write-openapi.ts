// Writes docs/openapi.json from the zod schemas (a test fails when the committed copy is stale).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { buildOpenApiDocument } from '../src/server/openapi.js';

const config = loadConfig({});
const target = path.resolve(import.meta.dirname, '../docs/openapi.json');
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument({ maxBodyBytes: config.http.maxBodyBytes }), null, 2)}\n`);
process.stdout.write(`wrote ${target}\n`);
