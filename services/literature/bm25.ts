/**
 * A compact BM25 inverted index for the local literature service.
 *
 * Scoring is MiniSearch's BM25+ exactly (same tokenizer, same lower-casing, field length counted
 * as distinct tokens, IDF per field, per-field boosts, a multi-word query AND-ed and multiplied
 * by its number of distinct words), so rankings are interchangeable with MiniSearch's;
 * `test/unit/literature-bm25.test.ts` checks that on a generated corpus. What differs is the
 * storage: postings live in typed arrays (document numbers and term frequencies per field,
 * sorted by document), built in one pass and serialised as one binary file. MiniSearch keeps a
 * Map per term and field and a result object per matching document, which at 200k abstracts
 * took > 2 GB and > 60 s to build and > 200 ms per query (docs/benchmarks.md).
 */

export interface Bm25Params {
  k: number;
  b: number;
  d: number;
}

/** A scored set of documents, sorted by ascending document number. */
export interface Postings {
  docs: Int32Array;
  scores: Float64Array;
}

export const EMPTY: Postings = { docs: new Int32Array(0), scores: new Float64Array(0) };

// MiniSearch's default tokenizer: split on line breaks, Unicode separators and punctuation.
const SPLIT = /[\n\r\p{Z}\p{P}]+/u;
export const tokenize = (text: string): string[] => text.split(SPLIT);

const CHUNK = 1 << 20;

/** An append-only column of integers in fixed-size typed-array chunks (no copying on growth). */
class Column<T extends Int32Array | Uint16Array | Uint32Array> {
  private readonly chunks: T[] = [];
  private fill = CHUNK;
  length = 0;
  constructor(private readonly make: (n: number) => T) {}
  push(v: number): void {
    if (this.fill === CHUNK) {
      this.chunks.push(this.make(CHUNK));
      this.fill = 0;
    }
    this.chunks[this.chunks.length - 1]![this.fill++] = v;
    this.length++;
  }
  forEach(fn: (v: number, i: number) => void): void {
    let i = 0;
    for (const c of this.chunks) {
      const n = Math.min(CHUNK, this.length - i);
      for (let j = 0; j < n; j++) fn(c[j]!, i++);
    }
  }
  toArray(): T {
    const out = this.make(this.length);
    let i = 0;
    for (const c of this.chunks) {
      const n = Math.min(CHUNK, this.length - i);
      out.set(c.subarray(0, n), i);
      i += n;
    }
    return out;
  }
}

interface FieldPostings {
  /** offsets[t] .. offsets[t + 1]: the postings of term t. */
  offsets: Uint32Array;
  docs: Int32Array;
  tfs: Uint16Array;
}

export class Bm25Builder {
  private readonly dict = new Map<string, number>();
  private counts = new Uint32Array(1 << 16);
  private readonly touched: number[] = [];
  private readonly entries: { term: Column<Int32Array>; doc: Column<Int32Array>; tf: Column<Uint16Array> }[];
  private readonly lengths = new Column<Uint32Array>((n) => new Uint32Array(n));
  /** Running mean of `lengths` per field, updated as MiniSearch updates it (bit-identical scores). */
  private readonly avg: Float64Array;
  private docCount = 0;

  constructor(readonly fields: readonly string[]) {
    this.entries = fields.map(() => ({
      term: new Column((n) => new Int32Array(n)),
      doc: new Column((n) => new Int32Array(n)),
      tf: new Column((n) => new Uint16Array(n)),
    }));
    this.avg = new Float64Array(fields.length);
  }

  /** Add a document (one text per field, in field order); returns its document number. */
  add(values: readonly string[]): number {
    const doc = this.docCount++;
    for (let f = 0; f < this.fields.length; f++) {
      const tokens = tokenize(values[f] ?? '');
      const length = new Set(tokens).size;
      this.lengths.push(length);
      this.avg[f] = (this.avg[f]! * doc + length) / (doc + 1);
      for (const token of tokens) {
        const term = token.toLowerCase();
        if (!term) continue;
        let id = this.dict.get(term);
        if (id === undefined) {
          id = this.dict.size;
          this.dict.set(term, id);
          if (id >= this.counts.length) {
            const grown = new Uint32Array(this.counts.length * 2);
            grown.set(this.counts);
            this.counts = grown;
          }
        }
        if (this.counts[id] === 0) this.touched.push(id);
        this.counts[id]!++;
      }
      const e = this.entries[f]!;
      for (const id of this.touched) {
        e.term.push(id);
        e.doc.push(doc);
        e.tf.push(Math.min(this.counts[id]!, 0xffff));
        this.counts[id] = 0;
      }
      this.touched.length = 0;
    }
    return doc;
  }

  build(): Bm25Index {
    const terms = this.dict.size;
    const postings = this.entries.map((e): FieldPostings => {
      const offsets = new Uint32Array(terms + 1);
      e.term.forEach((t) => offsets[t + 1]!++);
      for (let t = 0; t < terms; t++) offsets[t + 1]! += offsets[t]!;
      const cursor = offsets.slice(0, terms);
      const docs = new Int32Array(e.term.length);
      const tfs = new Uint16Array(e.term.length);
      const docCol = e.doc.toArray();
      const tfCol = e.tf.toArray();
      // A stable counting sort by term: documents were added in order, so each list stays sorted.
      e.term.forEach((t, i) => {
        const at = cursor[t]!++;
        docs[at] = docCol[i]!;
        tfs[at] = tfCol[i]!;
      });
      return { offsets, docs, tfs };
    });
    return new Bm25Index(
      [...this.fields],
      this.dict,
      this.docCount,
      this.lengths.toArray(),
      this.avg.slice(),
      postings,
    );
  }
}

const MAGIC = 'LITBM25\u0001';

export class Bm25Index {
  constructor(
    readonly fields: readonly string[],
    private readonly dict: ReadonlyMap<string, number>,
    readonly docCount: number,
    /** Distinct tokens per document and field, at doc * fields + field. */
    private readonly lengths: Uint32Array,
    private readonly avgLength: Float64Array,
    private readonly postings: readonly FieldPostings[],
  ) {}

  get terms(): number {
    return this.dict.size;
  }

  private termInField(term: number, field: number, boost: number, p: Bm25Params): Postings {
    const { offsets, docs, tfs } = this.postings[field]!;
    const from = offsets[term]!;
    const to = offsets[term + 1]!;
    const n = to - from;
    const idf = Math.log(1 + (this.docCount - n + 0.5) / (n + 0.5));
    const avg = this.avgLength[field]!;
    const width = this.fields.length;
    const outDocs = docs.slice(from, to);
    const scores = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const tf = tfs[from + i]!;
      const length = this.lengths[outDocs[i]! * width + field]!;
      scores[i] = boost * (idf * (p.d + (tf * (p.k + 1)) / (tf + p.k * (1 - p.b + (p.b * length) / avg))));
    }
    return { docs: outDocs, scores };
  }

  /**
   * Documents holding every word of `text` in at least one of `fields`, scored as MiniSearch's
   * `search(text, { fields, boost, bm25, combineWith: 'AND' })` scores them.
   */
  search(text: string, fields: readonly string[], boost: Readonly<Record<string, number>>, p: Bm25Params): Postings {
    const words = tokenize(text)
      .map((t) => t.toLowerCase())
      .filter(Boolean);
    if (!words.length) return EMPTY;
    const fieldIds = fields.map((name) => {
      const id = this.fields.indexOf(name);
      if (id < 0) throw new Error(`unknown field ${name}`);
      return id;
    });
    let acc: Postings | null = null;
    for (const word of words) {
      const term = this.dict.get(word);
      if (term === undefined) return EMPTY;
      let perWord = EMPTY;
      for (const f of fieldIds) perWord = union(perWord, this.termInField(term, f, boost[this.fields[f]!] || 1, p));
      acc = acc ? intersect(acc, perWord) : perWord;
      if (!acc.docs.length) return EMPTY;
    }
    const quality = new Set(words).size;
    if (quality !== 1) for (let i = 0; i < acc!.scores.length; i++) acc!.scores[i]! *= quality;
    return acc!;
  }

  /** One binary blob: magic, header length, JSON header, then 8-byte aligned typed arrays. */
  serialize(): Buffer {
    const arrays: ArrayBufferView[] = [
      this.lengths,
      this.avgLength,
      ...this.postings.flatMap((p) => [p.offsets, p.docs, p.tfs]),
    ];
    const header = Buffer.from(
      JSON.stringify({
        fields: this.fields,
        docCount: this.docCount,
        terms: [...this.dict.keys()],
        sizes: arrays.map((a) => a.byteLength),
      }),
    );
    const pad = (n: number) => (8 - (n % 8)) % 8;
    const headStart = MAGIC.length + 4;
    let offset = headStart + header.length + pad(headStart + header.length);
    const total = arrays.reduce((sum, a) => sum + a.byteLength + pad(a.byteLength), offset);
    const out = Buffer.alloc(total);
    out.write(MAGIC, 0, 'latin1');
    out.writeUInt32LE(header.length, MAGIC.length);
    header.copy(out, headStart);
    for (const a of arrays) {
      Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(out, offset);
      offset += a.byteLength + pad(a.byteLength);
    }
    return out;
  }

  static deserialize(buf: Buffer): Bm25Index {
    if (buf.toString('latin1', 0, MAGIC.length) !== MAGIC) throw new Error('not a literature index file (bad magic)');
    const headerLength = buf.readUInt32LE(MAGIC.length);
    const headStart = MAGIC.length + 4;
    const header = JSON.parse(buf.toString('utf8', headStart, headStart + headerLength)) as {
      fields: string[];
      docCount: number;
      terms: string[];
      sizes: number[];
    };
    const pad = (n: number) => (8 - (n % 8)) % 8;
    let offset = headStart + headerLength + pad(headStart + headerLength);
    // Copy each section into its own aligned buffer so the file buffer can be freed.
    const take = <T>(make: (b: ArrayBuffer) => T, size: number): T => {
      const copy = new ArrayBuffer(size);
      buf.copy(Buffer.from(copy), 0, offset, offset + size);
      offset += size + pad(size);
      return make(copy);
    };
    const sizes = [...header.sizes];
    const next = () => {
      const s = sizes.shift();
      if (s === undefined) throw new Error('literature index file is truncated');
      return s;
    };
    const lengths = take((b) => new Uint32Array(b), next());
    const avg = take((b) => new Float64Array(b), next());
    const postings = header.fields.map(() => ({
      offsets: take((b) => new Uint32Array(b), next()),
      docs: take((b) => new Int32Array(b), next()),
      tfs: take((b) => new Uint16Array(b), next()),
    }));
    if (offset > buf.length) throw new Error('literature index file is truncated');
    const dict = new Map(header.terms.map((t, i) => [t, i]));
    return new Bm25Index(header.fields, dict, header.docCount, lengths, avg, postings);
  }
}

// ---- set operations on sorted postings --------------------------------------------------------

/** Documents in either, scores added. */
export function union(a: Postings, b: Postings): Postings {
  if (!a.docs.length) return b;
  if (!b.docs.length) return a;
  const docs = new Int32Array(a.docs.length + b.docs.length);
  const scores = new Float64Array(docs.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.docs.length && j < b.docs.length) {
    const x = a.docs[i]!;
    const y = b.docs[j]!;
    if (x === y) {
      docs[n] = x;
      scores[n++] = a.scores[i++]! + b.scores[j++]!;
    } else if (x < y) {
      docs[n] = x;
      scores[n++] = a.scores[i++]!;
    } else {
      docs[n] = y;
      scores[n++] = b.scores[j++]!;
    }
  }
  while (i < a.docs.length) {
    docs[n] = a.docs[i]!;
    scores[n++] = a.scores[i++]!;
  }
  while (j < b.docs.length) {
    docs[n] = b.docs[j]!;
    scores[n++] = b.scores[j++]!;
  }
  return { docs: docs.subarray(0, n), scores: scores.subarray(0, n) };
}

/** Documents in both, scores added. */
export function intersect(a: Postings, b: Postings): Postings {
  const [small, large] = a.docs.length <= b.docs.length ? [a, b] : [b, a];
  const docs = new Int32Array(small.docs.length);
  const scores = new Float64Array(small.docs.length);
  let n = 0;
  let j = 0;
  for (let i = 0; i < small.docs.length && j < large.docs.length; i++) {
    const x = small.docs[i]!;
    j = seek(large.docs, x, j);
    if (j < large.docs.length && large.docs[j] === x) {
      docs[n] = x;
      // Keep the addition order of (a, b) so scores are bit-identical to a left-to-right sum.
      scores[n++] = small === a ? a.scores[i]! + b.scores[j]! : a.scores[j]! + b.scores[i]!;
    }
  }
  return { docs: docs.subarray(0, n), scores: scores.subarray(0, n) };
}

/** Documents of `a` not in `b`, with a's scores. */
export function difference(a: Postings, b: Postings): Postings {
  if (!b.docs.length) return a;
  const docs = new Int32Array(a.docs.length);
  const scores = new Float64Array(a.docs.length);
  let n = 0;
  let j = 0;
  for (let i = 0; i < a.docs.length; i++) {
    const x = a.docs[i]!;
    j = seek(b.docs, x, j);
    if (j < b.docs.length && b.docs[j] === x) continue;
    docs[n] = x;
    scores[n++] = a.scores[i]!;
  }
  return { docs: docs.subarray(0, n), scores: scores.subarray(0, n) };
}

/** Keep the documents that pass `test`. */
export function keep(a: Postings, test: (doc: number) => boolean): Postings {
  const docs = new Int32Array(a.docs.length);
  const scores = new Float64Array(a.docs.length);
  let n = 0;
  for (let i = 0; i < a.docs.length; i++) {
    if (!test(a.docs[i]!)) continue;
    docs[n] = a.docs[i]!;
    scores[n++] = a.scores[i]!;
  }
  return { docs: docs.subarray(0, n), scores: scores.subarray(0, n) };
}

/** The first index ≥ from whose value is ≥ x (galloping, then binary search). */
function seek(arr: Int32Array, x: number, from: number): number {
  let step = 1;
  let hi = from;
  while (hi < arr.length && arr[hi]! < x) {
    from = hi + 1;
    hi += step;
    step *= 2;
  }
  hi = Math.min(hi, arr.length);
  while (from < hi) {
    const mid = (from + hi) >>> 1;
    if (arr[mid]! < x) from = mid + 1;
    else hi = mid;
  }
  return from;
}
