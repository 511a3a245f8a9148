#!/usr/bin/env node
// The `co` command (package.json "bin"): runs the TypeScript sources of this checkout through tsx,
// resolved from the package root, so it works from any working directory. See docs/cli.md.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
register();
await import(pathToFileURL(path.join(root, 'src/cli/main.ts')).href);
