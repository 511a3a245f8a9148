/**
 * E-utilities XML beyond efetch's `PubmedArticleSet` (which `pubmed-xml.ts` reads): esearch's
 * `eSearchResult` with its error and warning lists, esummary's `eSummaryResult` (the default DocSum
 * form and the version 2.0 `DocumentSummarySet` form), and PMC efetch's `pmc-articleset` (JATS).
 * Same XML reader and conventions as `pubmed-xml.ts`: a DOCTYPE is tolerated, external entities are
 * never resolved, and anything malformed is a `PubmedFormatError`, never a half-filled result.
 */
import { z } from 'zod';
import {
  eutilsXmlParser,
  markupText,
  plainText,
  PubmedFormatError,
  readEutilsXml,
  rootElement,
  xmlText,
} from './pubmed-xml.js';

const arr = (n: unknown): unknown[] => (n === undefined || n === null ? [] : Array.isArray(n) ? n : [n]);
const obj = (n: unknown): Record<string, unknown> =>
  n && typeof n === 'object' && !Array.isArray(n) ? (n as Record<string, unknown>) : {};
const text = (n: unknown) => plainText(xmlText(n));
const textOrNull = (n: unknown) => text(n) || null;

/** The schema's issues, as one coded error (a value the parsers below could not make sense of). */
function validated<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new PubmedFormatError(`${what}: ${issues.slice(0, 300)}`);
}

const Uid = z.string().regex(/^\d{1,20}$/, 'not a numeric Entrez UID');
const Count = z.number().int().nonnegative();
const countOf = (n: unknown): number => {
  const s = text(n);
  return /^\d+$/.test(s) ? Number(s) : Number.NaN;
};

// --- esearch ---------------------------------------------------------------------------------

export const EsearchXmlResult = z.object({
  count: Count,
  retMax: Count,
  retStart: Count,
  ids: z.array(Uid),
  queryTranslation: z.string().nullable(),
  /** `Kind: text`, e.g. `PhraseNotFound: abcXYZ`; a top-level `<ERROR>` is `ERROR: text`. */
  errors: z.array(z.string()),
  /** `Kind: text`, e.g. `OutputMessage: No items found.` */
  warnings: z.array(z.string()),
});
export type EsearchXmlResult = z.infer<typeof EsearchXmlResult>;

const esearchParser = eutilsXmlParser(new Set(['Id']));
const ESEARCH_ERRORS = ['PhraseNotFound', 'FieldNotFound'];
const ESEARCH_WARNINGS = ['PhraseIgnored', 'QuotedPhraseNotFound', 'OutputMessage'];

const listed = (list: unknown, kinds: readonly string[]): string[] => {
  const o = obj(list);
  const known = [
    ...kinds,
    ...Object.keys(o).filter((k) => !kinds.includes(k) && !k.startsWith('@') && !k.startsWith('#')),
  ];
  return known.flatMap((k) =>
    arr(o[k])
      .map(text)
      .filter(Boolean)
      .map((t) => `${k}: ${t}`),
  );
};

/**
 * Parse an esearch XML answer (`eSearchResult`). The error and warning lists are reported, not
 * thrown: PubMed answers a phrase it cannot find with Count 0 and a `PhraseNotFound`, and a request
 * it refuses with a lone `<ERROR>` (then count, retMax and retStart are 0). A result that lacks
 * Count, RetMax or RetStart without an `<ERROR>`, or has a non-numeric id, is malformed.
 */
export function parseEsearchXml(xml: string): EsearchXmlResult {
  const doc = readEutilsXml(esearchParser, xml, 'esearch XML');
  if (doc.eSearchResult === undefined)
    throw new PubmedFormatError(`esearch XML: expected an eSearchResult, got ${rootElement(doc) ?? 'no element'}`);
  const r = obj(doc.eSearchResult);
  const topError = arr(r.ERROR).map(text).filter(Boolean);
  const errors = [...topError.map((e) => `ERROR: ${e}`), ...listed(r.ErrorList, ESEARCH_ERRORS)];
  const failed = topError.length > 0 && r.Count === undefined;
  return validated(
    EsearchXmlResult,
    {
      count: failed ? 0 : countOf(r.Count),
      retMax: failed ? 0 : countOf(r.RetMax),
      retStart: failed ? 0 : countOf(r.RetStart),
      ids: arr(obj(r.IdList).Id).map(text),
      queryTranslation: textOrNull(r.QueryTranslation),
      errors,
      warnings: listed(r.WarningList, ESEARCH_WARNINGS),
    },
    'esearch XML',
  );
}

// --- esummary --------------------------------------------------------------------------------

export const EsummaryDoc = z.object({
  uid: Uid,
  /** Null where the database's summary has no Title (structure, taxonomy, pccompound, …). */
  title: z.string().nullable(),
  pubDate: z.string().nullable(),
  source: z.string().nullable(),
  authors: z.array(z.string()),
  /** Present only when the summary has a publication-type list (PubMed). */
  pubTypes: z.array(z.string()).optional(),
});
export type EsummaryDoc = z.infer<typeof EsummaryDoc>;

const esummaryParser = eutilsXmlParser(
  new Set(['DocSum', 'Item', 'DocumentSummary', 'Author', 'flag', 'ERROR', 'error']),
);

function legacyDoc(d: Record<string, unknown>): EsummaryDoc {
  const items = arr(d.Item).map(obj);
  const item = (name: string) => items.find((i) => i['@Name'] === name);
  const listOf = (name: string, child: string) =>
    arr(item(name)?.Item)
      .map(obj)
      .filter((i) => i['@Name'] === child)
      .map(text)
      .filter(Boolean);
  const pubTypeList = item('PubTypeList');
  return {
    uid: text(d.Id),
    title: textOrNull(item('Title')),
    pubDate: textOrNull(item('PubDate')),
    source: textOrNull(item('Source')),
    authors: listOf('AuthorList', 'Author'),
    ...(pubTypeList ? { pubTypes: listOf('PubTypeList', 'PubType') } : {}),
  };
}

function v2Doc(d: Record<string, unknown>): EsummaryDoc {
  return {
    uid: text(d['@uid']) || text(d.Id),
    title: textOrNull(d.Title),
    pubDate: textOrNull(d.PubDate),
    source: textOrNull(d.Source),
    authors: arr(obj(d.Authors).Author)
      .map((a) => text(obj(a).Name))
      .filter(Boolean),
    ...(d.PubType !== undefined ? { pubTypes: arr(obj(d.PubType).flag).map(text).filter(Boolean) } : {}),
  };
}

/**
 * Parse an esummary XML answer: the default form (`eSummaryResult/DocSum` with typed `Item`s) or
 * version 2.0 (`DocumentSummarySet/DocumentSummary`, under `eSummaryResult` or on its own as EDirect
 * writes it). A summary NCBI could not produce (an `error` inside a DocumentSummary) is left out, so
 * callers see which requested ids are missing; an answer that is only an `<ERROR>` (e.g. "Neither
 * query_key nor id specified") is thrown as a PubmedFormatError.
 */
export function parseEsummaryXml(xml: string): EsummaryDoc[] {
  const doc = readEutilsXml(esummaryParser, xml, 'esummary XML');
  const result = doc.eSummaryResult;
  const standalone = doc.DocumentSummarySet;
  if (result === undefined && standalone === undefined)
    throw new PubmedFormatError(
      `esummary XML: expected an eSummaryResult or DocumentSummarySet, got ${rootElement(doc) ?? 'no element'}`,
    );
  const r = obj(result);
  const set = obj(standalone ?? r.DocumentSummarySet);
  const docs = [
    ...arr(r.DocSum).map((d) => legacyDoc(obj(d))),
    ...arr(set.DocumentSummary)
      .map(obj)
      .filter((d) => d.error === undefined)
      .map(v2Doc),
  ];
  const errors = [...arr(r.ERROR), ...arr(set.ERROR), ...arr(set.error)].map(text).filter(Boolean);
  if (docs.length === 0 && errors.length > 0) throw new PubmedFormatError(`E-utilities error: ${errors.join('; ')}`);
  return docs.map((d, i) => validated(EsummaryDoc, d, `esummary XML, document ${i + 1}`));
}

// --- PMC (JATS) ------------------------------------------------------------------------------

export const PmcRecord = z.object({
  pmcid: z.string().regex(/^PMC\d{1,10}$/),
  pmid: z
    .string()
    .regex(/^\d{1,9}$/)
    .nullable(),
  doi: z.string().nullable(),
  title: z.string(),
  /** Sections as `Title: text` joined by spaces, like PubmedRecord's abstract; null without one. */
  abstract: z.string().nullable(),
  journal: z.string(),
  year: z.number().int().nullable(),
  /** The JATS `article-type` attribute (`research-article`, `review-article`, `correction`, …). */
  articleType: z.string().nullable(),
  /** The article-categories subjects, e.g. `Author Correction`, `Original Research`. */
  subjects: z.array(z.string()),
  authors: z.array(z.string()),
});
export type PmcRecord = z.infer<typeof PmcRecord>;

const pmcParser = eutilsXmlParser(
  new Set([
    'article',
    'article-id',
    'journal-id',
    'journal-title',
    'abstract',
    'sec',
    'p',
    'pub-date',
    'subj-group',
    'subject',
    'contrib-group',
    'contrib',
    'error',
  ]),
  ['*.article-title', '*.p', '*.title', '*.subject', '*.collab'],
);

const raw = (n: unknown) => markupText(xmlText(n));

function sectionText(sec: Record<string, unknown>): string {
  const label = raw(sec.title);
  const body = [...arr(sec.p).map(raw), ...arr(sec.sec).map((s) => sectionText(obj(s)))].filter(Boolean).join(' ');
  return label && body ? `${label}: ${body}` : body;
}

function pmcYear(meta: Record<string, unknown>): number | null {
  const dates = arr(meta['pub-date']).map(obj);
  const kind = (d: Record<string, unknown>) => text(d['@pub-type']) || text(d['@date-type']);
  // The issue's date first (as PubMed's JournalIssue/PubDate), then the electronic one; never the PMC release.
  const ranked = ['ppub', 'collection', 'epub-ppub', 'epub', 'pub', ''].flatMap((k) =>
    dates.filter((d) => kind(d) === k),
  );
  for (const d of [...ranked, ...dates.filter((d) => kind(d) !== 'pmc-release')]) {
    const y = Number(text(d.year));
    if (Number.isInteger(y) && y > 1800) return y;
  }
  return null;
}

const initialsOf = (given: string) =>
  given
    .split(/[\s.-]+/)
    .map((w) => w[0] ?? '')
    .join('')
    .toUpperCase();

function pmcRecord(article: Record<string, unknown>): PmcRecord {
  const front = obj(article.front);
  const meta = obj(front['article-meta']);
  const journalMeta = obj(front['journal-meta']);
  const ids = arr(meta['article-id']).map(obj);
  const id = (type: string) => text(ids.find((i) => text(i['@pub-id-type']) === type));
  const pmcDigits = id('pmc') || id('pmcid');
  const pmcid = /^\d+$/.test(pmcDigits) ? `PMC${pmcDigits}` : pmcDigits.toUpperCase();
  if (!/^PMC\d{1,10}$/.test(pmcid))
    throw new PubmedFormatError(`an article has no valid PMC id (${JSON.stringify(pmcDigits).slice(0, 40)})`);
  const abstracts = arr(meta.abstract).map(obj);
  const main = abstracts.find((a) => a['@abstract-type'] === undefined) ?? abstracts[0];
  const abstract = main
    ? [...arr(main.p).map(raw), ...arr(main.sec).map((s) => sectionText(obj(s)))].filter(Boolean).join(' ')
    : '';
  const authors = arr(meta['contrib-group'])
    .flatMap((g) => arr(obj(g).contrib))
    .map(obj)
    .filter((c) => (text(c['@contrib-type']) || 'author') === 'author')
    .flatMap((c) => {
      if (c.collab !== undefined) return [raw(c.collab)];
      const name = obj(arr(c.name)[0]);
      const surname = text(name.surname);
      const initials = initialsOf(text(name['given-names']));
      return surname ? [`${surname}${initials ? ` ${initials}` : ''}`] : [];
    })
    .filter(Boolean);
  const journalIds = arr(journalMeta['journal-id']).map(obj);
  return validated(
    PmcRecord,
    {
      pmcid,
      pmid: id('pmid') || null,
      doi: id('doi') || null,
      title: raw(obj(meta['title-group'])['article-title']),
      abstract: abstract || null,
      journal:
        text(arr(obj(journalMeta['journal-title-group'])['journal-title'])[0]) ||
        text(journalIds.find((j) => text(j['@journal-id-type']) === 'nlm-ta')),
      year: pmcYear(meta),
      articleType: textOrNull(article['@article-type']),
      subjects: arr(obj(meta['article-categories'])['subj-group'])
        .flatMap((g) => arr(obj(g).subject))
        .map(raw)
        .filter(Boolean),
      authors,
    },
    `PMC article ${pmcid}`,
  );
}

/**
 * Parse a PMC efetch answer (`pmc-articleset` of JATS `article`s), or a single JATS `article`
 * document. Front matter only: ids, title, abstract, journal, year, article type, subjects, authors.
 */
export function parsePmcXml(xml: string): PmcRecord[] {
  const doc = readEutilsXml(pmcParser, xml, 'PMC XML');
  if (doc.eFetchResult !== undefined)
    throw new PubmedFormatError(`E-utilities error: ${text(obj(doc.eFetchResult).ERROR)}`);
  const set = doc['pmc-articleset'] !== undefined ? obj(doc['pmc-articleset']) : undefined;
  const articles = set ? arr(set.article) : doc.article !== undefined ? arr(doc.article) : undefined;
  if (articles === undefined)
    throw new PubmedFormatError(`PMC XML: expected a pmc-articleset, got ${rootElement(doc) ?? 'no element'}`);
  const errors = arr(set?.error).map(text).filter(Boolean);
  if (articles.length === 0 && errors.length > 0)
    throw new PubmedFormatError(`E-utilities error: ${errors.join('; ')}`);
  return articles.map((a) => pmcRecord(obj(a)));
}
