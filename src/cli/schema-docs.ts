/** The JSON Schema section of docs/cli.md, generated from the output schemas (zod 4 `z.toJSONSchema`). */
import { z } from 'zod';
import { OUTPUT_SCHEMAS } from './output.js';

export const START = '<!-- cli-schemas:start -->';
export const END = '<!-- cli-schemas:end -->';

export function cliSchemaSection(): string {
  const parts = Object.entries(OUTPUT_SCHEMAS).map(([command, schema]) => {
    const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });
    return `### ${command}\n\n\`\`\`json\n${JSON.stringify(json, null, 2)}\n\`\`\``;
  });
  return `${START}\n\n${parts.join('\n\n')}\n\n${END}`;
}

/** `doc` with the text between the markers replaced by `section`. */
export function replaceSchemaSection(doc: string, section: string): string {
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error(`docs/cli.md has no ${START} … ${END} markers`);
  return `${doc.slice(0, a)}${section}${doc.slice(b + END.length)}`;
}
