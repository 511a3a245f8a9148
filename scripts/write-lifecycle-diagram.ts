/**
 * Writes the case lifecycle diagram (generated from src/cases/lifecycle.ts) into
 * docs/architecture.md, between the `<!-- lifecycle:start -->` and `<!-- lifecycle:end -->`
 * markers: `npm run docs:lifecycle`. test/unit/lifecycle.test.ts fails when the doc is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DIAGRAM_MARKERS, lifecycleDocBlock } from '../src/cases/lifecycle.js';

const path = fileURLToPath(new URL('../docs/architecture.md', import.meta.url));
const doc = readFileSync(path, 'utf8');
const start = doc.indexOf(DIAGRAM_MARKERS.start);
const end = doc.indexOf(DIAGRAM_MARKERS.end);
if (start < 0 || end < start) {
  process.stderr.write(`${path}: the lifecycle markers are missing\n`);
  process.exit(1);
}
const updated = doc.slice(0, start) + lifecycleDocBlock() + doc.slice(end + DIAGRAM_MARKERS.end.length);
writeFileSync(path, updated);
process.stdout.write(updated === doc ? 'lifecycle diagram is current\n' : `lifecycle diagram written to ${path}\n`);
