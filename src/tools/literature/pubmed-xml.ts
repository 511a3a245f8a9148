/**
 * PubMed E-utilities formats: efetch XML (`PubmedArticleSet`, the format of NCBI's baseline
 * files), esearch XML (`eSearchResult`) and esearch JSON (`esearchresult`). Parsed into typed
 * records; anything malformed is a coded error, never a half-filled record. The local service
 * writes the same XML back (`toPubmedXml`), so one client reads both. esearch XML with its error
 * and warning lists, esummary and PMC XML are read in `eutils-xml.ts`, with the reader set up here.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { z } from 'zod';
import { AppError } from '../../errors.js';

export const PubmedRecord = z.object({
  pmid: z.string().regex(/^\d{1,9}$/),
  title: z.string(),
  abstract: z.string().nullable(),
  journal: z.string(),
  year: z.number().int().nullable(),
  authors: z.array(z.string()),
  publicationTypes: z.array(z.string()),
  mesh: z.array(z.string()),
});
export type PubmedRecord = z.infer<typeof PubmedRecord>;

export class PubmedFormatError extends AppError {
  declare readonly code: 'BAD_RESPONSE';
  constructor(message: string) {
    super('BAD_RESPONSE', message, false);
  }
}

const ALWAYS_ARRAY = new Set([
  'PubmedArticle',
  'PubmedBookArticle',
  'AbstractText',
  'Author',
  'PublicationType',
  'MeshHeading',
  'QualifierName',
  'Id',
  'ArticleId',
  'ELocationID',
]);

/**
 * The XML reader every E-utilities parser in this folder uses: attributes kept as `@name`, text as
 * `#text`, values left as strings. A DOCTYPE is tolerated and never fetched: fast-xml-parser refuses
 * external entity declarations outright (a parse error, hence a coded error) and bounds the expansion
 * of internal ones (its default limits). Elements matched by `stopNodes` keep their inline markup as
 * raw text, to be read with `markupText`.
 */
export function eutilsXmlParser(arrays: ReadonlySet<string>, stopNodes: readonly string[] = []): XMLParser {
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    textNodeName: '#text',
    stopNodes: [...stopNodes],
    isArray: (name) => arrays.has(name),
    parseTagValue: false,
    processEntities: true,
    htmlEntities: true,
  });
}

/**
 * Read a document with one of those parsers, well-formedness checked first: fast-xml-parser alone
 * accepts truncated input and stray end tags, and a body cut off mid-article (a dropped connection,
 * a partial download) would otherwise read as records with empty titles and no MeSH.
 */
export function readEutilsXml(xmlParser: XMLParser, xml: string, what = ''): Record<string, unknown> {
  const prefix = what ? `${what}: ` : '';
  if (typeof xml !== 'string' || !xml.trim()) throw new PubmedFormatError(`${prefix}empty response`);
  const valid = XMLValidator.validate(xml);
  if (valid !== true)
    throw new PubmedFormatError(
      `${prefix}not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`,
    );
  try {
    return xmlParser.parse(xml) as Record<string, unknown>;
  } catch (err) {
    throw new PubmedFormatError(`${prefix}not well-formed XML: ${err instanceof Error ? err.message : String(err)}`);
  }
}

// Titles, abstracts and group names carry inline markup (<i>, <sup>, <sub>, MathML): kept as raw text, read by markupText.
const STOP_NODES = ['*.ArticleTitle', '*.AbstractText', '*.VernacularTitle', '*.CollectiveName'];
const parser = eutilsXmlParser(ALWAYS_ARRAY, STOP_NODES);

/** The text of a parsed node: a string, the `#text` of an element with attributes, or an array's texts joined. */
export const xmlText = (n: unknown): string => {
  if (n === undefined || n === null) return '';
  if (typeof n === 'string' || typeof n === 'number') return String(n);
  if (Array.isArray(n)) return n.map(xmlText).join(' ');
  const o = n as Record<string, unknown>;
  return xmlText(o['#text']);
};
const textOf = xmlText;

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };
/** The five XML entities and numeric character references (`&#946;`, `&#x201C;`), decoded in one pass. */
const decodeEntities = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|quot|apos|amp);/gi, (whole, ref: string) => {
    if (!ref.startsWith('#')) return XML_ENTITIES[ref.toLowerCase()] ?? whole;
    const cp = /^#x/i.test(ref) ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : whole;
  });
const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Whitespace collapsed: for values the XML reader has already decoded (never decode them twice). */
export const plainText = (s: string) => s.replace(/\s+/g, ' ').trim();

/**
 * The text of a stop node's raw content (still XML): comments dropped, CDATA kept as text, tags
 * stripped (inside MathML, line-break indentation between elements goes too, so `<mi>V</mi>⏎  <mo>.</mo>`
 * reads `V.`, while `<mtext> </mtext>` stays a space), then entity and character references decoded once,
 * and whitespace collapsed.
 */
export const markupText = (raw: string) =>
  plainText(
    decodeEntities(
      raw
        .replace(/<!--[\s\S]*?-->/g, '')
        .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_, t: string) => escapeText(t))
        .replace(/<(?:mml:)?math\b[\s\S]*?<\/(?:mml:)?math>/g, (m) => m.replace(/>[ \t]*[\r\n][ \t\r\n]*</g, '><'))
        .replace(/<[^>]+>/g, ''),
    ),
  );

const arr = (n: unknown): unknown[] => (n === undefined || n === null ? [] : Array.isArray(n) ? n : [n]);
const obj = (n: unknown): Record<string, unknown> =>
  n && typeof n === 'object' && !Array.isArray(n) ? (n as Record<string, unknown>) : {};

function yearOf(article: Record<string, unknown>): number | null {
  const pub = obj(obj(obj(obj(article.Journal).JournalIssue).PubDate));
  const y =
    textOf(pub.Year) ||
    textOf(pub.MedlineDate).match(/\b(1[89]\d\d|20\d\d)\b/)?.[1] ||
    textOf(obj(arr(article.ArticleDate)[0]).Year);
  const n = Number(y);
  return Number.isInteger(n) && n > 1800 ? n : null;
}

function recordOf(article: Record<string, unknown>): PubmedRecord {
  const citation = obj(article.MedlineCitation);
  const pmid = textOf(citation.PMID).trim();
  if (!/^\d{1,9}$/.test(pmid))
    throw new PubmedFormatError(`a PubmedArticle has no valid PMID (${JSON.stringify(pmid).slice(0, 40)})`);
  const a = obj(citation.Article);
  const abstractParts = arr(obj(a.Abstract).AbstractText).map((p) => {
    const label = typeof p === 'object' && p ? textOf((p as Record<string, unknown>)['@Label']) : '';
    const text = markupText(textOf(p));
    return label && text ? `${label}: ${text}` : text;
  });
  const authors = arr(obj(a.AuthorList).Author).flatMap((au) => {
    const o = obj(au);
    if (o.CollectiveName) return [markupText(textOf(o.CollectiveName))];
    const last = plainText(textOf(o.LastName));
    const initials =
      plainText(textOf(o.Initials)) ||
      plainText(textOf(o.ForeName))
        .split(/\s+/)
        .map((w) => w[0] ?? '')
        .join('');
    return last ? [`${last}${initials ? ` ${initials}` : ''}`] : [];
  });
  const mesh = arr(obj(citation.MeshHeadingList).MeshHeading)
    .map((h) => plainText(textOf(obj(h).DescriptorName)))
    .filter(Boolean);
  return PubmedRecord.parse({
    pmid,
    title: markupText(textOf(a.ArticleTitle)) || markupText(textOf(a.VernacularTitle)),
    abstract: abstractParts.filter(Boolean).join(' ') || null,
    journal: plainText(textOf(obj(a.Journal).Title)) || plainText(textOf(obj(citation.MedlineJournalInfo).MedlineTA)),
    year: yearOf(a),
    authors,
    publicationTypes: arr(obj(a.PublicationTypeList).PublicationType)
      .map((p) => plainText(textOf(p)))
      .filter(Boolean),
    mesh,
  });
}

/** The name of a parsed document's root element (declarations and processing instructions skipped). */
export const rootElement = (doc: Record<string, unknown>): string | null =>
  Object.keys(doc).find((k) => !k.startsWith('?') && !k.startsWith('!') && !k.startsWith('#')) ?? null;

/** Parse an efetch response or a baseline file (`PubmedArticleSet`). Book records are skipped. */
export function parsePubmedXml(xml: string): PubmedRecord[] {
  const doc = readEutilsXml(parser, xml);
  if (doc.eFetchResult)
    throw new PubmedFormatError(`E-utilities error: ${plainText(textOf(obj(doc.eFetchResult).ERROR))}`);
  const set = doc.PubmedArticleSet;
  if (set === undefined) {
    const root = rootElement(doc);
    const hint = root === 'pmc-articleset' ? ' (PMC full text: read it with parsePmcXml)' : '';
    throw new PubmedFormatError(`expected a PubmedArticleSet, got ${root ? `<${root}>` : 'no element'}${hint}`);
  }
  return arr(obj(set).PubmedArticle).map((a) => recordOf(obj(a)));
}

export interface SearchIds {
  count: number;
  ids: string[];
  queryTranslation: string | null;
}

/** Parse an esearch response, XML or JSON (`retmode=json`). */
export function parseEsearch(body: string): SearchIds {
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      throw new PubmedFormatError('esearch JSON is malformed');
    }
    const r = obj(obj(json).esearchresult);
    if (r.ERROR || r.error) throw new PubmedFormatError(`E-utilities error: ${String(r.ERROR ?? r.error)}`);
    const ids = arr(r.idlist).map(String);
    if (r.count === undefined || !ids.every((i) => /^\d{1,9}$/.test(i)))
      throw new PubmedFormatError('esearch JSON lacks count or has invalid ids');
    return {
      count: Number(r.count),
      ids,
      queryTranslation: typeof r.querytranslation === 'string' ? r.querytranslation : null,
    };
  }
  let doc: Record<string, unknown>;
  try {
    doc = readEutilsXml(parser, body);
  } catch {
    throw new PubmedFormatError('esearch XML is malformed');
  }
  const r = obj(doc.eSearchResult);
  if (!doc.eSearchResult) throw new PubmedFormatError('expected an eSearchResult');
  if (r.ERROR) throw new PubmedFormatError(`E-utilities error: ${plainText(textOf(r.ERROR))}`);
  const ids = arr(obj(r.IdList).Id).map((i) => textOf(i).trim());
  if (!ids.every((i) => /^\d{1,9}$/.test(i))) throw new PubmedFormatError('esearch XML has invalid ids');
  return { count: Number(textOf(r.Count) || 0), ids, queryTranslation: textOf(r.QueryTranslation) || null };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Serialise records as an efetch `PubmedArticleSet` (the subset of elements parsed above). */
export function toPubmedXml(records: readonly PubmedRecord[]): string {
  const body = records
    .map((r) => {
      const authors = r.authors.map((a) => {
        const [last, initials] = [a.replace(/\s+\S+$/, ''), a.match(/\s(\S+)$/)?.[1] ?? ''];
        return `<Author><LastName>${esc(last)}</LastName><Initials>${esc(initials)}</Initials></Author>`;
      });
      return (
        `<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">${r.pmid}</PMID><Article PubModel="Print">` +
        `<Journal><JournalIssue><PubDate>${r.year ? `<Year>${r.year}</Year>` : ''}</PubDate></JournalIssue><Title>${esc(r.journal)}</Title></Journal>` +
        `<ArticleTitle>${esc(r.title)}</ArticleTitle>` +
        (r.abstract ? `<Abstract><AbstractText>${esc(r.abstract)}</AbstractText></Abstract>` : '') +
        (authors.length ? `<AuthorList CompleteYN="Y">${authors.join('')}</AuthorList>` : '') +
        `<PublicationTypeList>${r.publicationTypes.map((p) => `<PublicationType>${esc(p)}</PublicationType>`).join('')}</PublicationTypeList>` +
        `</Article>` +
        (r.mesh.length
          ? `<MeshHeadingList>${r.mesh.map((m) => `<MeshHeading><DescriptorName>${esc(m)}</DescriptorName></MeshHeading>`).join('')}</MeshHeadingList>`
          : '') +
        `</MedlineCitation></PubmedArticle>`
      );
    })
    .join('\n');
  return `<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2024//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_240101.dtd">\n<PubmedArticleSet>\n${body}\n</PubmedArticleSet>\n`;
}

/** An esearch XML answer (what the local service returns when `retmode` is not json). */
export function toEsearchXml(r: SearchIds & { retmax: number; retstart: number }): string {
  return `<?xml version="1.0" encoding="UTF-8" ?>\n<eSearchResult><Count>${r.count}</Count><RetMax>${r.retmax}</RetMax><RetStart>${r.retstart}</RetStart><IdList>${r.ids.map((i) => `<Id>${i}</Id>`).join('')}</IdList>${r.queryTranslation ? `<QueryTranslation>${esc(r.queryTranslation)}</QueryTranslation>` : ''}</eSearchResult>\n`;
}
