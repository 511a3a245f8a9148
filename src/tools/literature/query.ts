/**
 * PubMed query syntax, both ways.
 *
 * - `buildPubmedQuery`: a plan step's intent → a PubMed query with field tags and filters:
 *   the first term is the main concept (title/abstract or MeSH), further terms are OR-ed as a
 *   second concept, then `humans[mh]`, a publication-date range and publication types.
 * - `parsePubmedQuery`: the subset the local service understands: quoted phrases and words
 *   with optional tags ([tiab], [ti], [ab], [mh], [majr], [pt], [dp], [all]), AND / OR / NOT,
 *   parentheses, and date ranges `"2016"[dp] : "3000"[dp]`.
 */
import type { LiteratureQuery } from './schema.js';
import { AppError } from '../../errors.js';

const quote = (s: string) =>
  `"${s
    .replace(/"/g, '')
    .replace(/[[\]()]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()}"`;
/** A term and its other names, each in title/abstract or MeSH. */
const concept = (term: string, others: readonly string[] = []) => {
  const names = [...new Map([term, ...others].map((n) => [n.toLowerCase(), n])).values()];
  return `(${names.map((n) => `${quote(n)}[tiab] OR ${quote(n)}[mh]`).join(' OR ')})`;
};

export function buildPubmedQuery(q: LiteratureQuery, now = new Date(), options: { mainOnly?: boolean } = {}): string {
  const terms = q.terms.map((t, i) => ({ t: t.trim(), others: q.synonyms?.[i] ?? [] })).filter((x) => x.t);
  const [main, ...rest] = terms;
  if (!main) throw new Error('a literature query needs at least one term');
  const parts = [concept(main.t, main.others)];
  if (rest.length && !options.mainOnly) parts.push(`(${rest.map((x) => concept(x.t, x.others)).join(' OR ')})`);
  if (q.humansOnly ?? true) parts.push('humans[mh]');
  const since = q.sinceYears === undefined ? 10 : q.sinceYears;
  if (since !== null) parts.push(`("${now.getUTCFullYear() - since}"[dp] : "3000"[dp])`);
  const types = q.publicationTypes ?? [];
  if (types.length) parts.push(`(${types.map((t) => `${quote(t)}[pt]`).join(' OR ')})`);
  return parts.join(' AND ');
}

// ---------------------------------------------------------------------------------------------

export type Field = 'tiab' | 'ti' | 'ab' | 'mh' | 'pt' | 'dp' | 'all';
export type QueryNode =
  | { kind: 'term'; text: string; field: Field }
  | { kind: 'range'; field: 'dp'; from: number; to: number }
  | { kind: 'and' | 'or'; children: QueryNode[] }
  | { kind: 'not'; left: QueryNode; right: QueryNode };

export class QuerySyntaxError extends AppError {
  declare readonly code: 'QUERY_SYNTAX';
  constructor(message: string) {
    super('QUERY_SYNTAX', message, false);
  }
}

const FIELD_ALIASES: Record<string, Field> = {
  tiab: 'tiab',
  'title/abstract': 'tiab',
  ti: 'ti',
  title: 'ti',
  ab: 'ab',
  abstract: 'ab',
  mh: 'mh',
  mesh: 'mh',
  majr: 'mh',
  'mesh terms': 'mh',
  pt: 'pt',
  'publication type': 'pt',
  dp: 'dp',
  pdat: 'dp',
  'publication date': 'dp',
  all: 'all',
  'all fields': 'all',
};

type Token =
  | { t: 'word'; text: string; field: Field }
  | { t: 'op'; op: 'AND' | 'OR' | 'NOT' }
  | { t: '(' }
  | { t: ')' }
  | { t: ':' };

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ':') {
      out.push({ t: ch });
      i++;
      continue;
    }
    let text: string;
    if (ch === '"') {
      const end = s.indexOf('"', i + 1);
      if (end < 0) throw new QuerySyntaxError('unterminated quote');
      text = s.slice(i + 1, end);
      i = end + 1;
    } else {
      const m = /^[^\s()"[\]:]+/.exec(s.slice(i));
      if (!m) throw new QuerySyntaxError(`unexpected “${ch}” at ${i}`);
      text = m[0];
      i += text.length;
      if (/^(AND|OR|NOT)$/.test(text)) {
        out.push({ t: 'op', op: text as 'AND' | 'OR' | 'NOT' });
        continue;
      }
    }
    let field: Field = 'all';
    if (s[i] === '[') {
      const end = s.indexOf(']', i);
      if (end < 0) throw new QuerySyntaxError('unterminated field tag');
      const tag = s
        .slice(i + 1, end)
        .trim()
        .toLowerCase()
        .replace(/:noexp$/, '');
      const f = FIELD_ALIASES[tag];
      if (!f) throw new QuerySyntaxError(`unsupported field tag [${tag}]`);
      field = f;
      i = end + 1;
    }
    out.push({ t: 'word', text, field });
  }
  return out;
}

/** Parse a PubMed-style query. Adjacent terms without an operator are AND-ed, as PubMed does. */
export function parsePubmedQuery(query: string): QueryNode {
  const tokens = tokenize(query);
  let pos = 0;
  const peek = () => tokens[pos];
  const primary = (): QueryNode => {
    const tok = tokens[pos++];
    if (!tok) throw new QuerySyntaxError('unexpected end of query');
    if (tok.t === '(') {
      const inner = expr();
      if (tokens[pos++]?.t !== ')') throw new QuerySyntaxError('missing )');
      return inner;
    }
    if (tok.t !== 'word') throw new QuerySyntaxError(`unexpected ${tok.t === 'op' ? tok.op : tok.t}`);
    if (peek()?.t === ':') {
      pos++;
      const to = tokens[pos++];
      if (tok.field !== 'dp' || to?.t !== 'word' || to.field !== 'dp')
        throw new QuerySyntaxError('a range is "from"[dp] : "to"[dp]');
      const from = Number(tok.text.slice(0, 4));
      const until = Number(to.text.slice(0, 4));
      if (!Number.isInteger(from) || !Number.isInteger(until)) throw new QuerySyntaxError('date ranges use years');
      return { kind: 'range', field: 'dp', from, to: until };
    }
    if (tok.field === 'dp') {
      const y = Number(tok.text.slice(0, 4));
      if (!Number.isInteger(y)) throw new QuerySyntaxError('dates use years');
      return { kind: 'range', field: 'dp', from: y, to: y };
    }
    return { kind: 'term', text: tok.text, field: tok.field };
  };
  const expr = (): QueryNode => {
    let left = primary();
    for (;;) {
      const tok = peek();
      if (!tok || tok.t === ')') return left;
      let op: 'AND' | 'OR' | 'NOT' = 'AND';
      if (tok.t === 'op') {
        op = tok.op;
        pos++;
      }
      const right = primary();
      if (op === 'NOT') left = { kind: 'not', left, right };
      else if (left.kind === op.toLowerCase()) (left as { children: QueryNode[] }).children.push(right);
      else left = { kind: op === 'AND' ? 'and' : 'or', children: [left, right] };
    }
  };
  const tree = expr();
  if (pos !== tokens.length) throw new QuerySyntaxError('unbalanced )');
  return tree;
}
