/**
 * Corpus loading for the local literature service: PubMed XML (NCBI baseline and update files,
 * `.xml` or `.xml.gz`, one `PubmedArticleSet` each) and JSONL, one record per line, either with
 * the fields of PubmedRecord or in PubMedQA's shape (`pmid`, `year`, `mesh`, `sections` of
 * `{label, text}`, `conclusion`; no title, journal, authors or publication types), whose
 * sections become a structured abstract ("LABEL: text" parts, CONCLUSIONS last), as the XML parser writes one. A folder is read file by file in name order. Records are validated;
 * a bad line or file is an error naming it, never a silently shorter corpus.
 */
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { gunzipSync } from 'node:zlib';
import { parsePubmedXml, PubmedRecord } from '../../src/tools/literature/pubmed-xml.js';
import { z } from 'zod';
import { AppError } from '../../src/errors.js';

export class CorpusError extends AppError {
  declare readonly code: 'CORPUS_INVALID';
  constructor(message: string) {
    super('CORPUS_INVALID', message, false);
  }
}

const CORPUS_FILE = /\.(xml|xml\.gz|jsonl|jsonl\.gz)$/;

/** The corpus files under a path (a file, or a folder's matching files in name order). */
export function corpusFiles(location: string): string[] {
  let st;
  try {
    st = statSync(location);
  } catch {
    throw new CorpusError(`literature corpus ${location} does not exist`);
  }
  const files = st.isDirectory()
    ? readdirSync(location)
        .filter((f) => CORPUS_FILE.test(f))
        .sort()
        .map((f) => path.join(location, f))
    : [location];
  if (!files.length) throw new CorpusError(`literature corpus ${location} holds no .xml, .xml.gz or .jsonl files`);
  return files;
}

/** A fingerprint of the corpus files (path, size, modification time), for the persisted index. */
export function corpusFingerprint(files: readonly string[]): string {
  return files.map((f) => `${path.resolve(f)}:${statSync(f).size}:${Math.floor(statSync(f).mtimeMs)}`).join('|');
}

/** A PubMedQA (PQA-L) record as `../shared/data/pubmedqa/corpus.jsonl` holds it. */
const PubmedQaRecord = z.object({
  pmid: z.string().regex(/^\d{1,9}$/),
  year: z
    .union([z.string().regex(/^\d{4}$/), z.number().int()])
    .nullable()
    .optional(),
  mesh: z.array(z.string()).default([]),
  sections: z.array(z.object({ label: z.string(), text: z.string() })).min(1),
  conclusion: z.string().nullable().optional(),
});

function fromPubmedQa(r: z.infer<typeof PubmedQaRecord>): PubmedRecord {
  const parts = r.sections.map((s) => (s.label ? `${s.label.toUpperCase()}: ${s.text}` : s.text));
  if (r.conclusion) parts.push(`CONCLUSIONS: ${r.conclusion}`);
  return {
    pmid: r.pmid,
    title: '',
    abstract: parts.join(' '),
    journal: '',
    year: r.year === null || r.year === undefined ? null : Number(r.year),
    authors: [],
    publicationTypes: [],
    mesh: r.mesh,
  };
}

async function* jsonl(file: string): AsyncGenerator<PubmedRecord> {
  const input = file.endsWith('.gz') ? (await import('node:zlib')).createGunzip() : null;
  const stream = createReadStream(file);
  const lines = createInterface({ input: input ? stream.pipe(input) : stream, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new CorpusError(`${path.basename(file)} line ${n}: not JSON`);
    }
    const qa = PubmedQaRecord.safeParse(value);
    const r = qa.success ? PubmedRecord.safeParse(fromPubmedQa(qa.data)) : PubmedRecord.safeParse(value);
    if (!r.success)
      throw new CorpusError(
        `${path.basename(file)} line ${n}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    yield r.data;
  }
}

/** Every record of the corpus, file by file; `onFile` reports progress. */
export async function* readCorpus(
  files: readonly string[],
  onFile?: (file: string, index: number) => void,
): AsyncGenerator<PubmedRecord> {
  for (const [i, file] of files.entries()) {
    onFile?.(file, i);
    if (/\.jsonl(\.gz)?$/.test(file)) {
      yield* jsonl(file);
      continue;
    }
    const raw = readFileSync(file);
    const xml = file.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
    try {
      yield* parsePubmedXml(xml);
    } catch (err) {
      throw new CorpusError(`${path.basename(file)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
