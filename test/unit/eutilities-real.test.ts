/**
 * Real NCBI E-utilities responses (SHARED_DATA_DIR/eutilities, see its SOURCE.md; read in place,
 * never copied): efetch PubmedArticleSet XML through parsePubmedXml, eSearchResult and
 * eSummaryResult XML through parseEsearchXml and parseEsummaryXml, the PMC article set through
 * parsePmcXml. Every file in the folder must have an expectation below (a new file fails the
 * coverage test until it gets one). Expected values were read from the files themselves (and
 * cross-checked with an independent reading, ElementTree, outside this suite); where the suite
 * reads a file independently (PMIDs, AbstractText labels, esearch ids) it uses plain regular
 * expressions, not the code under test. The inline fixtures at the end are synthetic and labelled.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parseEsearchXml,
  parseEsummaryXml,
  parsePmcXml,
  type EsearchXmlResult,
  type EsummaryDoc,
  type PmcRecord,
} from '../../src/tools/literature/eutils-xml.js';
import {
  parseEsearch,
  parsePubmedXml,
  PubmedFormatError,
  toPubmedXml,
  type PubmedRecord,
} from '../../src/tools/literature/pubmed-xml.js';

const DIR = path.resolve(import.meta.dirname, '../..', process.env.SHARED_DATA_DIR ?? '../shared/data', 'eutilities');
const PRESENT = existsSync(DIR);
const read = (file: string) => readFileSync(path.join(DIR, file), 'utf8');

/** The section labels of a parsed abstract (`LABEL: text LABEL: text`), in order. */
const labelsOf = (abstract: string | null) =>
  [...(abstract ?? '').matchAll(/(?:^|[.?!)] )([A-Z][A-Z ,/&-]{2,}[A-Z]): /g)].map((m) => m[1]);

// --- expectations, one entry per file ---------------------------------------------------------

interface EfetchRecord extends Partial<PubmedRecord> {
  pmid: string;
  title: string;
  year: number | null;
  journal: string;
  publicationTypes: string[];
  labels: string[];
  /** The exact MeSH list; checked for every record. */
  mesh: string[];
}

const EFETCH: Record<string, EfetchRecord[]> = {
  'pubmed-29768149.xml': [
    {
      pmid: '29768149',
      title: 'Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma.',
      year: 2018,
      journal: 'The New England journal of medicine',
      authors: [
        "O'Byrne PM",
        'FitzGerald JM',
        'Bateman ED',
        'Barnes PJ',
        'Zhong N',
        'Keen C',
        'Jorup C',
        'Lamarca R',
        'Ivanov S',
        'Reddel HK',
      ],
      publicationTypes: [
        'Clinical Trial, Phase III',
        'Comparative Study',
        'Journal Article',
        'Multicenter Study',
        'Randomized Controlled Trial',
        "Research Support, Non-U.S. Gov't",
      ],
      labels: ['BACKGROUND', 'METHODS', 'RESULTS', 'CONCLUSIONS'],
      mesh: [
        'Administration, Inhalation',
        'Adolescent',
        'Adult',
        'Aged',
        'Asthma',
        'Bronchodilator Agents',
        'Budesonide',
        'Child',
        'Double-Blind Method',
        'Drug Administration Schedule',
        'Drug Combinations',
        'Female',
        'Forced Expiratory Volume',
        'Formoterol Fumarate',
        'Glucocorticoids',
        'Humans',
        'Maintenance Chemotherapy',
        'Male',
        'Medication Adherence',
        'Middle Aged',
        'Surveys and Questionnaires',
        'Terbutaline',
        'Young Adult',
      ],
    },
  ],
  'pubmed1.xml': [
    {
      pmid: '12091962',
      title: 'The treatment of AIDS behind the walls of correctional facilities.',
      year: 1990, // <Year>1990</Year><Season>Spring</Season>
      journal: 'Social justice (San Francisco, Calif.)',
      authors: ['Olivero JM'],
      abstract: null,
      publicationTypes: ['Journal Article', 'Review'],
      labels: [],
      mesh: [
        'AIDS Serodiagnosis',
        'Acquired Immunodeficiency Syndrome',
        'Civil Rights',
        'HIV Seropositivity',
        'Humans',
        'Jurisprudence',
        'Law Enforcement',
        'Mass Screening',
        'Minority Groups',
        'Organizational Policy',
        'Patient Care',
        'Prejudice',
        'Prisoners',
        'Public Policy',
        'Quarantine',
        'Social Control, Formal',
        'Statistics as Topic',
        'Stereotyping',
        'United States',
      ],
    },
    {
      pmid: '9997',
      title: 'Magnetic studies of Chromatium flavocytochrome C552. A mechanism for heme-flavin interaction.',
      year: 1976,
      journal: 'Biochimica et biophysica acta',
      authors: ['Strekas TC'],
      publicationTypes: ['Journal Article'],
      labels: [],
      mesh: [
        'Binding Sites',
        'Chromatium',
        'Cytochrome c Group',
        'Electron Spin Resonance Spectroscopy',
        'Flavins',
        'Heme',
        'Hydrogen-Ion Concentration',
        'Iron',
        'Magnetics',
        'Oxidation-Reduction',
        'Protein Binding',
        'Protein Conformation',
        'Temperature',
      ],
    },
  ],
  'pubmed2.xml': [
    {
      pmid: '11748933',
      title:
        'Is cryopreservation a homogeneous process? Ultrastructure and motility of untreated, prefreezing, and postthawed spermatozoa of Diplodus puntazzo (Cetti).',
      year: 2001,
      journal: 'Cryobiology',
      authors: ['Taddei AR', 'Barbato F', 'Abelli L', 'Canese S', 'Moretti F', 'Rana KJ', 'Fausto AM', 'Mazzini M'],
      publicationTypes: ['Journal Article', "Research Support, Non-U.S. Gov't"],
      labels: [],
      mesh: [
        'Animals',
        'Cell Membrane',
        'Cryopreservation',
        'Male',
        'Microscopy, Electron',
        'Microscopy, Electron, Scanning',
        'Nuclear Envelope',
        'Sea Bream',
        'Semen Preservation',
        'Sperm Motility',
        'Spermatozoa',
      ],
    },
    {
      pmid: '11700088',
      title: 'Proton MRI of (13)C distribution by J and chemical shift editing.',
      year: 2001,
      journal: 'Journal of magnetic resonance (San Diego, Calif. : 1997)',
      authors: ['Casieri C', 'Testa C', 'Carpinelli G', 'Canese R', 'Podo F', 'De Luca F'],
      publicationTypes: ['Journal Article'],
      labels: [],
      mesh: [], // PubMed-not-MEDLINE: no MeshHeadingList
    },
  ],
  'pubmed4.xml': [
    {
      pmid: '27797938',
      // <i>TERT</i> in the file: inline markup is dropped, its text kept.
      title: 'Leucocyte telomere length, genetic variants at the TERT gene region and risk of pancreatic cancer.',
      year: 2017, // JournalIssue PubDate 2017 Jun; the ArticleDate (Electronic) is 2016
      journal: 'Gut',
      publicationTypes: [
        'Journal Article',
        'Observational Study',
        'Research Support, N.I.H., Extramural',
        "Research Support, U.S. Gov't, Non-P.H.S.",
        "Research Support, Non-U.S. Gov't",
      ],
      labels: ['OBJECTIVE', 'DESIGN', 'RESULTS', 'CONCLUSIONS'],
      mesh: [
        'Adenocarcinoma',
        'Adult',
        'Aged',
        'Aged, 80 and over',
        'Alleles',
        'Case-Control Studies',
        'Female',
        'Follow-Up Studies',
        'Humans',
        'Leukocytes',
        'Male',
        'Middle Aged',
        'Odds Ratio',
        'Pancreatic Neoplasms',
        'Polymorphism, Single Nucleotide',
        'Prospective Studies',
        'Randomized Controlled Trials as Topic',
        'Risk Factors',
        'Telomerase',
        'Telomere Shortening',
        'United States',
      ],
    },
  ],
  'pubmed5.xml': [
    {
      pmid: '28775130',
      title: 'Occupational pesticide exposure and subclinical hypothyroidism among male pesticide applicators.',
      year: 2018, // PubDate 2018 Feb; ArticleDate 2017
      journal: 'Occupational and environmental medicine',
      publicationTypes: ['Journal Article'],
      // Label="OBJECTIVES" NlmCategory="OBJECTIVE": the label as printed is kept.
      labels: ['OBJECTIVES', 'METHODS', 'RESULTS', 'CONCLUSIONS'],
      mesh: [],
    },
  ],
  'pubmed6.xml': [
    {
      pmid: '30108519',
      // A &quot;<i>Blood Relationship&quot;</i> Between …
      title:
        'A "Blood Relationship" Between the Overlooked Minimum Lactate Equivalent and Maximal Lactate Steady State in Trained Runners. Back to the Old Days?',
      year: 2018,
      journal: 'Frontiers in physiology',
      authors: ['Garcia-Tabar I', 'Gorostiaga EM'],
      publicationTypes: ['Journal Article'],
      labels: [],
      mesh: [],
    },
  ],
  'pubmed7.xml': [
    {
      pmid: '29963580',
      title: 'Development of a pulmonary imaging biomarker pipeline for phenotyping of chronic lung disease.',
      year: 2018,
      journal: 'Journal of medical imaging (Bellingham, Wash.)',
      authors: [
        'Guo F',
        'Capaldi D',
        'Kirby M',
        'Sheikh K',
        'Svenningsen S',
        'McCormack DG',
        'Fenster A',
        'Parraga G',
        'Canadian Respiratory Research Network', // <CollectiveName>
      ],
      publicationTypes: ['Journal Article'],
      labels: [],
      mesh: [],
    },
  ],
};

interface EsearchExpectation extends Omit<EsearchXmlResult, 'ids'> {
  idCount: number;
  /** The first ids, in order (all of them when the list is short). */
  firstIds: string[];
  lastId?: string;
}

const ESEARCH: Record<string, EsearchExpectation> = {
  'esearch1.xml': {
    count: 63,
    retMax: 20,
    retStart: 0,
    idCount: 20,
    firstIds: [
      '41282813',
      '41148224',
      '41011574',
      '40959146',
      '40937394',
      '40657423',
      '40651330',
      '40572159',
      '40160861',
      '39883659',
      '39882099',
      '39717221',
      '39546778',
      '39507944',
      '39445816',
      '38808697',
      '38650605',
      '38365590',
      '38235175',
      '37810457',
    ],
    queryTranslation: '"biopython"[All Fields]',
    errors: [],
    warnings: [],
  },
  'esearch2.xml': {
    count: 42249,
    retMax: 100,
    retStart: 0,
    idCount: 100,
    firstIds: ['41297076', '41297074', '41297068'],
    lastId: '41296368',
    queryTranslation:
      '("cancer s"[All Fields] OR "cancerated"[All Fields] OR "canceration"[All Fields] OR "cancerization"[All Fields] OR "cancerized"[All Fields] OR "cancerous"[All Fields] OR "neoplasms"[MeSH Terms] OR "neoplasms"[All Fields] OR "cancer"[All Fields] OR "cancers"[All Fields]) AND 2025/09/27:2025/11/26[Date - Entry]',
    errors: [],
    warnings: [],
  },
  'esearch3.xml': {
    count: 2651,
    retMax: 6,
    retStart: 6,
    idCount: 6,
    firstIds: ['11121077', '11121076', '11121075', '11121074', '11121073', '11121072'],
    queryTranslation: '"proc natl acad sci u s a"[Journal] AND "97"[Volume]',
    errors: [],
    warnings: [],
  },
  'esearch5.xml': {
    count: 5,
    retMax: 5,
    retStart: 0,
    idCount: 5,
    firstIds: ['6540636', '5830998', '4460425', '4466840', '3443459'],
    queryTranslation:
      '("stem cells"[MeSH Terms] OR ("stem"[All Fields] AND "cells"[All Fields]) OR "stem cells"[All Fields]) AND hasabstract[All Fields]',
    errors: [],
    warnings: [],
  },
  // esearch6 and esearch7 search sequence databases: ten-digit GIs, not PMIDs.
  'esearch6.xml': {
    count: 1018,
    retMax: 20,
    retStart: 0,
    idCount: 20,
    firstIds: ['3069587804', '3069587774', '3069587771'],
    lastId: '2274792553',
    queryTranslation: 'biomol trna[prop]',
    errors: [],
    warnings: [],
  },
  'esearch7.xml': {
    count: 330,
    retMax: 20,
    retStart: 0,
    idCount: 20,
    firstIds: ['3108048616', '3076096315', '3070972985'],
    lastId: '2174081062',
    queryTranslation: '000200020[molecular weight]',
    errors: [],
    warnings: [],
  },
  'esearch8.xml': {
    count: 0,
    retMax: 0,
    retStart: 0,
    idCount: 0,
    firstIds: [],
    queryTranslation: '(abcXYZ[All Fields])',
    errors: ['PhraseNotFound: abcXYZ'],
    warnings: ['OutputMessage: No items found.'],
  },
};

/** An array of summaries, or the error message the file is (esummary8). */
const ESUMMARY: Record<string, EsummaryDoc[] | { throws: RegExp }> = {
  // db=pubmed, the default DocSum form.
  'esummary1.xml': [
    {
      uid: '11850928',
      title: 'Zirconium granuloma following treatment of rhus dermatitis.',
      pubDate: '1965 Aug',
      source: 'Arch Dermatol',
      authors: ['LoPresti PJ', 'Hambrick GW Jr'],
      pubTypes: ['Journal Article'],
    },
    {
      uid: '11482001',
      title: 'Adverse and beneficial effects of plant extracts on skin and skin disorders.',
      pubDate: '2001 Jun',
      source: 'Adverse Drug React Toxicol Rev',
      authors: ['Mantle D', 'Gok MA', 'Lennard TW'],
      pubTypes: ['Journal Article', 'Review'],
    },
  ],
  // db=protein: a Title, no date, source or authors.
  'esummary3.xml': [
    { uid: '28800982', title: 'hemochromatosis, partial [Homo sapiens]', pubDate: null, source: null, authors: [] },
    { uid: '28628843', title: 'erythroid associated factor [Homo sapiens]', pubDate: null, source: null, authors: [] },
  ],
  // db=nucleotide.
  'esummary4.xml': [
    {
      uid: '28864546',
      title: "Homo sapiens alpha hemoglobin (HBZP) pseudogene 3' UTR/AluJo repeat breakpoint junction",
      pubDate: null,
      source: null,
      authors: [],
    },
    {
      uid: '28800981',
      title: 'Homo sapiens hemochromatosis (HFE) mRNA, partial cds',
      pubDate: null,
      source: null,
      authors: [],
    },
  ],
  // db=structure, db=taxonomy, db=pccompound: no Title item at all.
  'esummary5.xml': [
    { uid: '19923', title: null, pubDate: null, source: null, authors: [] },
    { uid: '12120', title: null, pubDate: null, source: null, authors: [] },
  ],
  'esummary6.xml': [
    { uid: '9913', title: null, pubDate: null, source: null, authors: [] },
    { uid: '30521', title: null, pubDate: null, source: null, authors: [] },
  ],
  'esummary8.xml': { throws: /^E-utilities error: Neither query_key nor id specified$/ },
  'esummary9.xml': [{ uid: '7488', title: null, pubDate: null, source: null, authors: [] }],
};

const PMC: Record<string, PmcRecord[]> = {
  'efetch_pmc.xml': [
    {
      pmcid: 'PMC8435807',
      pmid: '34527728',
      doi: '10.1183/23120541.50193-2021',
      // &#x201C; … &#x201D; and <italic>ERJ Open Res</italic> in the file.
      title:
        '“Lung diffusing capacity for nitric oxide measured by two commercial devices: a randomised crossover comparison in healthy adults”. Thomas Radtke, Quintin de Groot, Sarah R. Haile, Marion Maggi, Connie C.W. Hsia and Holger Dressel. ERJ Open Res 2021; 7: 00193-2021.',
      abstract: null, // a correction notice: body only, no <abstract>
      journal: 'ERJ Open Research',
      year: 2021, // collection 2021-07 (and epub 2021-09-13)
      articleType: 'correction',
      subjects: ['Author Correction'],
      authors: [], // no contrib-group
    },
  ],
};

/** Files in the folder that are documentation, not responses. */
const DOCUMENTATION = ['SOURCE.md'];

describe.skipIf(!PRESENT)(
  PRESENT ? 'real E-utilities responses' : `real E-utilities responses: skipped, ${DIR} is missing`,
  () => {
    it('has an expectation for every file in the folder, and a file for every expectation', () => {
      const files = readdirSync(DIR).sort();
      const expected = [
        ...Object.keys(EFETCH),
        ...Object.keys(ESEARCH),
        ...Object.keys(ESUMMARY),
        ...Object.keys(PMC),
        ...DOCUMENTATION,
      ].sort();
      expect(files).toEqual(expected);
    });

    it('SOURCE.md agrees with the files: the eight PubMed articles, the NEJM record, esearch1', () => {
      const source = read('SOURCE.md');
      const listed = source.match(/8 articles in all: PMIDs ([\d, ]+)\)/)?.[1]?.split(/,\s*/);
      const pmids = Object.keys(EFETCH)
        .filter((f) => /^pubmed\d+\.xml$/.test(f))
        .flatMap((f) => parsePubmedXml(read(f)).map((r) => r.pmid));
      expect(pmids).toEqual(listed);
      expect(pmids).toHaveLength(8);
      const [nejm] = parsePubmedXml(read('pubmed-29768149.xml'));
      expect(source).toMatch(/four labelled AbstractText sections and 23 MeSH headings/);
      expect(labelsOf(nejm!.abstract)).toHaveLength(4);
      expect(nejm!.mesh).toHaveLength(23);
      expect(source).toMatch(/esearch1\.xml`: Count 63, 20 ids/);
      const e1 = parseEsearchXml(read('esearch1.xml'));
      expect([e1.count, e1.ids.length]).toEqual([63, 20]);
    });

    describe('efetch PubmedArticleSet (parsePubmedXml)', () => {
      for (const [file, expected] of Object.entries(EFETCH)) {
        it(file, () => {
          const xml = read(file);
          expect(xml).toMatch(/<!DOCTYPE PubmedArticleSet PUBLIC/);
          const records = parsePubmedXml(xml);
          // Independent reading: the PMID right after each <MedlineCitation>, and every Label attribute.
          const pmids = [...xml.matchAll(/<MedlineCitation[^>]*>\s*<PMID[^>]*>(\d+)<\/PMID>/g)].map((m) => m[1]);
          const labels = [...xml.matchAll(/<AbstractText\b[^>]*\bLabel="([^"]*)"/g)].map((m) => m[1]);
          expect(records.map((r) => r.pmid)).toEqual(pmids);
          expect(records.flatMap((r) => labelsOf(r.abstract))).toEqual(labels);

          expect(records.map((r) => r.pmid)).toEqual(expected.map((e) => e.pmid));
          expect(records[0]!.title).toBe(expected[0]!.title);
          for (const [i, e] of expected.entries()) {
            const r = records[i]!;
            const { labels: wantLabels, ...fields } = e;
            expect(r).toMatchObject(fields);
            expect(labelsOf(r.abstract), `${r.pmid} labels`).toEqual(wantLabels);
            for (const t of [r.title, r.abstract ?? ''])
              expect(t, `${r.pmid}: no markup or undecoded references left`).not.toMatch(/&#|&[a-z]+;|<\/?[a-z]/i);
          }
          // The XML the local service writes back reads the same.
          expect(parsePubmedXml(toPubmedXml(records))).toEqual(records);
          // Cut off anywhere (a dropped connection), it is a coded error, never records half filled.
          const end = xml.lastIndexOf('</PubmedArticleSet>');
          for (const at of [0.25, 0.5, 0.75]
            .map((q) => Math.floor(end * q))
            .concat(end, xml.indexOf('</PubmedArticle>')))
            expect(() => parsePubmedXml(xml.slice(0, at)), `cut at ${at}`).toThrow(PubmedFormatError);
        });
      }

      it('structured abstracts: sections keep their labels and their text, in the file order', () => {
        const [nejm] = parsePubmedXml(read('pubmed-29768149.xml'));
        expect(nejm!.abstract).toMatch(
          /^BACKGROUND: In patients with mild asthma, as-needed use of an inhaled glucocorticoid plus a fast-acting β 2-agonist may be an alternative to conventional treatment strategies\. METHODS: We conducted a 52-week, double-blind trial /,
        );
        expect(nejm!.abstract).toMatch(/ CONCLUSIONS: In patients with mild asthma, as-needed budesonide-formoterol /);
        const [pesticide] = parsePubmedXml(read('pubmed5.xml'));
        expect(pesticide!.abstract).toMatch(/^OBJECTIVES: Animal studies suggest that exposure to pesticides /);
      });

      it('decodes character references and flattens inline markup and MathML', () => {
        const [nejm] = parsePubmedXml(read('pubmed-29768149.xml'));
        // &#946; and &#956; in the file.
        expect(nejm!.abstract).toContain('(200 μg of budesonide and 6 μg of formoterol)');
        const [runners] = parsePubmedXml(read('pubmed6.xml'));
        // <mml:math> with one element per line: V̇O2max reads as one word, not "V . O 2 m a x".
        expect(runners!.abstract).toContain('maximal oxygen uptake ( V.O2max ) 67.6 ± 4.1 ml·kg-1·min-1]');
        expect(runners!.abstract).toContain('(LEmin)'); // LE<sub>min</sub>
        const [lungs] = parsePubmedXml(read('pubmed7.xml'));
        // An <mml:mtext> thin space stays a space.
        expect(lungs!.abstract).toContain('(1) inhaled He3/Xe129 MRI ventilation');
        const [cryo] = parsePubmedXml(read('pubmed2.xml'));
        expect(cryo!.abstract).toContain('(P < 0.001)'); // &lt; in the file
      });

      it('refuses the PMC article set with a coded error that names it', () => {
        expect(() => parsePubmedXml(read('efetch_pmc.xml'))).toThrow(PubmedFormatError);
        expect(() => parsePubmedXml(read('efetch_pmc.xml'))).toThrow(
          /expected a PubmedArticleSet, got <pmc-articleset> .*parsePmcXml/,
        );
      });
    });

    describe('eSearchResult (parseEsearchXml)', () => {
      for (const [file, e] of Object.entries(ESEARCH)) {
        it(file, () => {
          const xml = read(file);
          const r = parseEsearchXml(xml);
          const { idCount, firstIds, lastId, ...rest } = e;
          expect(r).toMatchObject(rest);
          expect(r.ids).toHaveLength(idCount);
          expect(r.ids.slice(0, firstIds.length)).toEqual(firstIds);
          if (lastId) expect(r.ids.at(-1)).toBe(lastId);
          expect(r.ids).toEqual([...xml.matchAll(/<Id>(\d+)<\/Id>/g)].map((m) => m[1])); // independent reading
          expect(r.ids.length).toBeLessThanOrEqual(r.retMax);
          expect(() => parseEsearchXml(xml.slice(0, xml.lastIndexOf('</eSearchResult>')))).toThrow(PubmedFormatError);
        });
      }

      it('agrees with the client parser (parseEsearch) on PubMed answers; that one refuses non-PMID ids', () => {
        for (const file of ['esearch1.xml', 'esearch2.xml', 'esearch3.xml', 'esearch5.xml', 'esearch8.xml']) {
          const x = parseEsearchXml(read(file));
          expect(parseEsearch(read(file)), file).toEqual({
            count: x.count,
            ids: x.ids,
            queryTranslation: x.queryTranslation,
          });
        }
        for (const file of ['esearch6.xml', 'esearch7.xml'])
          expect(() => parseEsearch(read(file)), file).toThrow(PubmedFormatError);
      });
    });

    describe('eSummaryResult (parseEsummaryXml)', () => {
      for (const [file, e] of Object.entries(ESUMMARY)) {
        it(file, () => {
          const xml = read(file);
          if ('throws' in e) {
            expect(() => parseEsummaryXml(xml)).toThrow(PubmedFormatError);
            expect(() => parseEsummaryXml(xml)).toThrow(e.throws);
            return;
          }
          const docs = parseEsummaryXml(xml);
          expect(docs).toEqual(e);
          expect(() => parseEsummaryXml(xml.slice(0, xml.lastIndexOf('</DocSum>')))).toThrow(PubmedFormatError);
          expect(docs.map((d) => d.uid)).toEqual([...xml.matchAll(/<DocSum>\s*<Id>(\d+)<\/Id>/g)].map((m) => m[1]));
        });
      }
    });

    describe('pmc-articleset (parsePmcXml)', () => {
      for (const [file, e] of Object.entries(PMC)) {
        it(file, () => {
          const xml = read(file);
          expect(parsePmcXml(xml)).toEqual(e);
          expect(() => parsePmcXml(xml.slice(0, xml.indexOf('</article-meta>')))).toThrow(PubmedFormatError);
        });
      }
      it('refuses PubMed efetch XML', () => {
        expect(() => parsePmcXml(read('pubmed1.xml'))).toThrow(/expected a pmc-articleset, got PubmedArticleSet/);
      });
    });
  },
);

// --- synthetic inline fixtures: edge cases the real files and literature-formats.test.ts lack -----

const PUBMED_DOCTYPE =
  '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n';
const article = (pmid: string, inner: string, citationTail = '') =>
  `<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">${pmid}</PMID><Article PubModel="Print">${inner}</Article>${citationTail}</MedlineCitation></PubmedArticle>`;

describe('PubMed XML edge cases (synthetic)', () => {
  it('an empty PubmedArticleSet, with its DOCTYPE, is no records', () => {
    expect(parsePubmedXml(`${PUBMED_DOCTYPE}<PubmedArticleSet>\n</PubmedArticleSet>\n`)).toEqual([]);
    expect(parsePubmedXml(`${PUBMED_DOCTYPE}<PubmedArticleSet/>`)).toEqual([]);
  });

  it('reads years across a MedlineDate range and from ArticleDate; skips book records', () => {
    const xml =
      `${PUBMED_DOCTYPE}<!-- SYNTHETIC TEST DATA -->\n<PubmedArticleSet>` +
      article(
        '990000101',
        '<Journal><JournalIssue><PubDate><MedlineDate>1998 Dec-1999 Jan</MedlineDate></PubDate></JournalIssue><Title>Synthetic J</Title></Journal><ArticleTitle>SYNTHETIC: range</ArticleTitle>',
      ) +
      article(
        '990000102',
        '<Journal><JournalIssue><PubDate><Season>Winter</Season></PubDate></JournalIssue><Title>Synthetic J</Title></Journal><ArticleTitle>SYNTHETIC: electronic date only</ArticleTitle><ArticleDate DateType="Electronic"><Year>2024</Year><Month>01</Month><Day>02</Day></ArticleDate>',
      ) +
      article(
        '990000103',
        '<Journal><JournalIssue><PubDate><Season>Winter</Season></PubDate></JournalIssue><Title>Synthetic J</Title></Journal><ArticleTitle>SYNTHETIC: no year</ArticleTitle>',
      ) +
      '<PubmedBookArticle><BookDocument><PMID Version="1">990000104</PMID></BookDocument></PubmedBookArticle>' +
      '</PubmedArticleSet>';
    expect(parsePubmedXml(xml).map((r) => [r.pmid, r.year])).toEqual([
      ['990000101', 1998],
      ['990000102', 2024],
      ['990000103', null],
    ]);
  });

  it('decodes references once: numeric ones, CDATA and markup in titles and group names; parsed fields not twice', () => {
    const xml =
      `${PUBMED_DOCTYPE}<PubmedArticleSet>` +
      article(
        '990000105',
        '<Journal><JournalIssue><PubDate><Year>2020</Year></PubDate></JournalIssue><Title>Synthetic &amp;lt;Journal&amp;gt; of A &lt; B</Title></Journal>' +
          '<ArticleTitle>SYNTHETIC: &#x3B2;-blockers &#38; &amp;lt;i&amp;gt; <!-- a comment --><![CDATA[x < y & z]]> in <i>vitro</i></ArticleTitle>' +
          '<Abstract><AbstractText Label="AIM &amp; SCOPE">&#946;<sub>2</sub> agonists &amp;amp; co.</AbstractText></Abstract>' +
          '<AuthorList><Author><CollectiveName>The <i>SYNTHETIC</i> Group &#x2014; Test</CollectiveName></Author></AuthorList>',
        '<MeshHeadingList><MeshHeading><DescriptorName>Anatomy &amp;amp; Histology</DescriptorName></MeshHeading></MeshHeadingList>',
      ) +
      '</PubmedArticleSet>';
    const [r] = parsePubmedXml(xml);
    expect(r).toMatchObject({
      title: 'SYNTHETIC: β-blockers & &lt;i&gt; x < y & z in vitro',
      abstract: 'AIM & SCOPE: β2 agonists &amp; co.',
      journal: 'Synthetic &lt;Journal&gt; of A < B',
      authors: ['The SYNTHETIC Group — Test'],
      mesh: ['Anatomy &amp; Histology'],
    });
    expect(parsePubmedXml(toPubmedXml([r!]))).toEqual([r]);
  });

  it('refuses stray or missing end tags (which the XML reader alone would let through)', () => {
    const one = article('990000108', '<ArticleTitle>SYNTHETIC</ArticleTitle>');
    for (const bad of [
      `<PubmedArticleSet>${one.replace('</Article>', '')}</PubmedArticleSet>`,
      `<PubmedArticleSet>${one}</Article></PubmedArticleSet>`,
      `<PubmedArticleSet>${one}`,
    ])
      expect(() => parsePubmedXml(bad), bad).toThrow(/not well-formed XML/);
  });

  it('never resolves external entities, and bounds internal ones', () => {
    const external = `<?xml version="1.0"?><!DOCTYPE PubmedArticleSet [<!ENTITY x SYSTEM "file:///etc/passwd">]><PubmedArticleSet>${article('990000106', '<ArticleTitle>&x;</ArticleTitle>')}</PubmedArticleSet>`;
    expect(() => parsePubmedXml(external)).toThrow(PubmedFormatError);
    const big = `<!DOCTYPE PubmedArticleSet [<!ENTITY a "${'a'.repeat(9000)}">]><PubmedArticleSet>${article('990000107', '<Journal><Title>' + '&a;'.repeat(2000) + '</Title></Journal>')}</PubmedArticleSet>`;
    expect(() => parsePubmedXml(big)).toThrow(PubmedFormatError);
    for (const parse of [parseEsearchXml, parseEsummaryXml, parsePmcXml]) {
      const root =
        parse === parseEsearchXml ? 'eSearchResult' : parse === parseEsummaryXml ? 'eSummaryResult' : 'pmc-articleset';
      expect(() =>
        parse(`<!DOCTYPE ${root} [<!ENTITY x SYSTEM "http://127.0.0.1:1/x">]><${root}>&x;</${root}>`),
      ).toThrow(PubmedFormatError);
    }
  });
});

describe('esearch XML edge cases (synthetic)', () => {
  it('a lone top-level <ERROR> is reported with zero counts', () => {
    expect(
      parseEsearchXml('<eSearchResult><ERROR>SYNTHETIC: Invalid db name specified</ERROR></eSearchResult>'),
    ).toEqual({
      count: 0,
      retMax: 0,
      retStart: 0,
      ids: [],
      queryTranslation: null,
      errors: ['ERROR: SYNTHETIC: Invalid db name specified'],
      warnings: [],
    });
  });

  it('lists every error and warning kind', () => {
    const xml =
      '<eSearchResult><Count>0</Count><RetMax>0</RetMax><RetStart>0</RetStart><IdList/><TranslationSet/>' +
      '<QueryTranslation>SYNTHETIC</QueryTranslation>' +
      '<ErrorList><PhraseNotFound>foo</PhraseNotFound><PhraseNotFound>bar</PhraseNotFound><FieldNotFound>badfield</FieldNotFound></ErrorList>' +
      '<WarningList><PhraseIgnored>of</PhraseIgnored><QuotedPhraseNotFound>"no such phrase"</QuotedPhraseNotFound><OutputMessage>No items found.</OutputMessage></WarningList>' +
      '</eSearchResult>';
    expect(parseEsearchXml(xml)).toMatchObject({
      errors: ['PhraseNotFound: foo', 'PhraseNotFound: bar', 'FieldNotFound: badfield'],
      warnings: ['PhraseIgnored: of', 'QuotedPhraseNotFound: "no such phrase"', 'OutputMessage: No items found.'],
    });
  });

  it('refuses malformed answers with a coded error', () => {
    for (const bad of [
      '',
      'not xml <',
      '<eSearchResult><Count>2</Count><RetMax>2',
      '<html>nope</html>',
      '<eSearchResult><Count>two</Count><RetMax>0</RetMax><RetStart>0</RetStart></eSearchResult>',
      '<eSearchResult><Count>1</Count><RetStart>0</RetStart><IdList><Id>1</Id></IdList></eSearchResult>',
      '<eSearchResult><Count>1</Count><RetMax>1</RetMax><RetStart>0</RetStart><IdList><Id>12a</Id></IdList></eSearchResult>',
    ])
      expect(() => parseEsearchXml(bad), bad).toThrow(PubmedFormatError);
  });
});

describe('esummary XML edge cases (synthetic)', () => {
  // The version 2.0 layout as in NCBI's E-utilities documentation; the values are synthetic.
  const v2 = `<?xml version="1.0" encoding="UTF-8" ?>
<!DOCTYPE eSummaryResult PUBLIC "-//NLM//DTD esummary pubmed 20250101//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20250101/esummary_pubmed.dtd">
<eSummaryResult>
<DocumentSummarySet status="OK">
<DbBuild>SYNTHETIC</DbBuild>
<DocumentSummary uid="990000201">
<PubDate>2024 Jan</PubDate>
<EPubDate>2023 Dec 29</EPubDate>
<Source>Synthetic J</Source>
<Authors>
<Author><Name>Testperson AB</Name><AuthType>Author</AuthType><ClusterID/></Author>
<Author><Name>Placeholder C</Name><AuthType>Author</AuthType><ClusterID/></Author>
</Authors>
<Title>
SYNTHETIC TEST RECORD: a summary &amp; its title.
</Title>
<PubType><flag>Review</flag><flag>Journal Article</flag></PubType>
</DocumentSummary>
<DocumentSummary uid="990000202"><error>cannot get document summary</error></DocumentSummary>
</DocumentSummarySet>
</eSummaryResult>`;

  it('reads the version 2.0 form and leaves out a summary NCBI could not produce', () => {
    expect(parseEsummaryXml(v2)).toEqual([
      {
        uid: '990000201',
        title: 'SYNTHETIC TEST RECORD: a summary & its title.',
        pubDate: '2024 Jan',
        source: 'Synthetic J',
        authors: ['Testperson AB', 'Placeholder C'],
        pubTypes: ['Review', 'Journal Article'],
      },
    ]);
  });

  it('reads a DocumentSummarySet on its own (EDirect), ids as <Id>', () => {
    const xml =
      '<DocumentSummarySet status="OK"><DocumentSummary><Id>990000203</Id><Title>SYNTHETIC</Title></DocumentSummary></DocumentSummarySet>';
    expect(parseEsummaryXml(xml)).toEqual([
      { uid: '990000203', title: 'SYNTHETIC', pubDate: null, source: null, authors: [] },
    ]);
  });

  it('refuses malformed answers with a coded error', () => {
    for (const bad of [
      '',
      '<eSummaryResult><DocSum>',
      '<eSearchResult><Count>0</Count></eSearchResult>',
      '<eSummaryResult><DocSum><Item Name="Title" Type="String">no id</Item></DocSum></eSummaryResult>',
      '<eSummaryResult><DocumentSummarySet status="OK"><DocumentSummary uid="x1"><Title>bad uid</Title></DocumentSummary></DocumentSummarySet></eSummaryResult>',
    ])
      expect(() => parseEsummaryXml(bad), bad).toThrow(PubmedFormatError);
  });
});

describe('PMC XML edge cases (synthetic)', () => {
  const jats = (ids: string, meta = '') =>
    `<article article-type="research-article"><front><journal-meta><journal-id journal-id-type="nlm-ta">Synth J</journal-id></journal-meta><article-meta>${ids}` +
    `<title-group><article-title>SYNTHETIC: <italic>&#x3B2;</italic>-blockers</article-title></title-group>${meta}</article-meta></front><body><p>Body text.</p></body></article>`;

  it('reads ids, a structured abstract (not the graphical one), authors, the issue year', () => {
    const xml = `<?xml version="1.0" ?>\n<!DOCTYPE pmc-articleset PUBLIC "-//NLM//DTD ARTICLE SET 2.0//EN" "https://dtd.nlm.nih.gov/ncbi/pmc/articleset/nlm-articleset-2.0.dtd">\n<pmc-articleset>${jats(
      '<article-id pub-id-type="pmcid">PMC990000301</article-id><article-id pub-id-type="doi">10.0000/synthetic</article-id>',
      '<article-categories><subj-group subj-group-type="heading"><subject>Original Research</subject></subj-group></article-categories>' +
        '<contrib-group><contrib contrib-type="author"><name><surname>Testperson</surname><given-names>Alex B.</given-names></name></contrib>' +
        '<contrib contrib-type="author"><collab>Synthetic <italic>Study</italic> Group</collab></contrib>' +
        '<contrib contrib-type="editor"><name><surname>Editor</surname><given-names>E</given-names></name></contrib></contrib-group>' +
        '<pub-date pub-type="epub"><year>2023</year></pub-date><pub-date pub-type="ppub"><year>2024</year></pub-date>' +
        '<abstract abstract-type="graphical"><p>Graphical.</p></abstract>' +
        '<abstract><title>Abstract</title><sec><title>Background</title><p>Why &amp; how.</p></sec><sec><title>Results</title><p>x<sub>2</sub> &lt; 3.</p><p>More.</p></sec></abstract>',
    )}</pmc-articleset>`;
    expect(parsePmcXml(xml)).toEqual([
      {
        pmcid: 'PMC990000301',
        pmid: null,
        doi: '10.0000/synthetic',
        title: 'SYNTHETIC: β-blockers',
        abstract: 'Background: Why & how. Results: x2 < 3. More.',
        journal: 'Synth J',
        year: 2024,
        articleType: 'research-article',
        subjects: ['Original Research'],
        authors: ['Testperson AB', 'Synthetic Study Group'],
      },
    ]);
  });

  it('reads a lone JATS <article>; an empty set is no records', () => {
    expect(parsePmcXml(jats('<article-id pub-id-type="pmc">990000302</article-id>'))).toMatchObject([
      { pmcid: 'PMC990000302', title: 'SYNTHETIC: β-blockers', abstract: null, year: null, authors: [] },
    ]);
    expect(parsePmcXml('<pmc-articleset></pmc-articleset>')).toEqual([]);
  });

  it('refuses an article without a PMC id, and foreign or broken documents', () => {
    for (const bad of [
      `<pmc-articleset>${jats('<article-id pub-id-type="pmid">990000303</article-id>')}</pmc-articleset>`,
      '<pmc-articleset><article>',
      '<html/>',
      '<eFetchResult><ERROR>SYNTHETIC: bad id</ERROR></eFetchResult>',
      '',
    ])
      expect(() => parsePmcXml(bad), bad).toThrow(PubmedFormatError);
  });
});
