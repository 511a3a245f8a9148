/**
 * The documented bulk loader: CSV (RFC 4180) folders and JSON files with the same record
 * types; every bad row is reported with its file, line and column, and a bad load changes
 * nothing. Tested on the project's own files (../shared/data holds no drug data set).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KbError } from '../../src/knowledge/errors.js';
import { importKnowledge, parseCsv, readRecords, recordsToBatch } from '../../src/knowledge/importer.js';
import { runCheck } from '../../src/knowledge/checks.js';
import { SafetyCheckInput } from '../../src/domain/knowledge.js';
import { openTestKb, type TestKb } from '../helpers/kb.js';

const root = path.resolve('.data', `test-import-${randomBytes(4).toString('hex')}`);
let n = 0;
function folder(files: Record<string, string>): string {
  const dir = path.join(root, `set-${++n}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, body] of Object.entries(files)) writeFileSync(path.join(dir, name), body);
  return dir;
}
const SOURCES = 'key,label,citation,url\nsyn,Synthetic,"Synthetic test data, not a clinical source",\n';
const ING = 'id,name,classes,brands,names_zh,source\nalpha,Alphamab,,Alfa®;Alphax,阿尔法,syn\nbeta,Betamab,,,,syn\n';

let kb: TestKb;
beforeAll(async () => {
  kb = await openTestKb('sqlite', null);
});
afterAll(async () => {
  await kb.drop();
  rmSync(root, { recursive: true, force: true });
});
afterEach(() => undefined);

const failure = (fn: () => unknown): KbError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof KbError) return e;
    throw e;
  }
  throw new Error('expected a KbError');
};

describe('CSV parsing', () => {
  it('handles quotes, doubled quotes, embedded commas and newlines, CRLF, BOM and comment rows', () => {
    const { header, rows } = parseCsv('\uFEFFa,b,c\r\n1,"x, ""y""\nz",3\r\n# a comment,,\r\n\r\n4,5,\n');
    expect(header).toEqual(['a', 'b', 'c']);
    expect(rows).toEqual([
      { line: 2, values: { a: '1', b: 'x, "y"\nz', c: '3' } },
      { line: 6, values: { a: '4', b: '5', c: '' } },
    ]);
  });

  it('rejects an unterminated quote and rows longer than the header', () => {
    expect(failure(() => parseCsv('a,b\n1,"open\n')).message).toMatch(/unterminated quoted field starting on line 2/);
    expect(failure(() => parseCsv('a,b\n1,2,3\n')).message).toMatch(/line 2: 3 fields, the header has 2/);
  });
});

describe('import', () => {
  it('loads a CSV folder: entities, names, interactions, dose ranges; re-running is a no-op', async () => {
    const dir = folder({
      'sources.csv': SOURCES,
      'ingredients.csv': ING,
      'interactions.csv':
        'a,b,severity,mechanism,management,source\nalpha,beta,high,Synthetic mechanism.,Synthetic management.,syn\n',
      'dose_ranges.csv':
        'drug,route,age_min,age_max,renal_metric,renal_min,renal_max,unit,per,min,max,action,note,source\nalpha,oral,,,,,,mg,day,,100,,,syn\n',
    });
    const report = await importKnowledge(kb.store, dir, { by: 'test' });
    expect(report.entities.added).toBe(2);
    expect(report.facts.added).toBeGreaterThanOrEqual(6);
    const snap = await kb.store.snapshot();
    const input = SafetyCheckInput.parse({
      kind: 'interaction',
      medications: [
        { name: 'Alfa', dose: null, route: null, frequencyPerDay: null },
        { name: '阿尔法', dose: null, route: null, frequencyPerDay: null },
        { name: 'betamab', dose: null, route: null, frequencyPerDay: null },
      ],
    });
    const out = runCheck(snap, input);
    expect(out.findings.map((f) => f.medications.join('+'))).toEqual(['Alfa+betamab', '阿尔法+betamab']);
    expect(snap.facts.get('ix:drug:alpha~drug:beta')?.source).toEqual({
      label: 'Synthetic',
      citation: 'Synthetic test data, not a clinical source',
      url: null,
    });
    const again = await importKnowledge(kb.store, dir, { by: 'test' });
    expect([again.entities.added, again.entities.updated, again.facts.added, again.facts.updated]).toEqual([
      0, 0, 0, 0,
    ]);
    expect(again.revision).toBe(report.revision);
  });

  it('a changed row becomes a new version of the same fact', async () => {
    const dir = folder({
      'sources.csv': SOURCES,
      'ingredients.csv': ING,
      'interactions.csv':
        'a,b,severity,mechanism,management,source\nbeta,alpha,moderate,Synthetic mechanism changed.,Synthetic management.,syn\n',
    });
    const report = await importKnowledge(kb.store, dir, { by: 'test' });
    expect(report.facts.updated).toBe(1);
    expect(await kb.store.getFact('ix:drug:alpha~drug:beta')).toMatchObject({
      version: 2,
      attrs: { severity: 'moderate' },
    });
    expect((await kb.store.history('ix:drug:alpha~drug:beta')).map((h) => h.change)).toEqual(['import', 'import']);
  });

  it('loads the same records from JSON', async () => {
    const file = path.join(root, 'set.json');
    writeFileSync(
      file,
      JSON.stringify({
        sources: [{ key: 'syn', label: 'Synthetic', citation: 'Synthetic test data' }],
        ingredients: [{ id: 'gamma', name: 'Gammamab', classes: [], brands: ['Gamx'], names_zh: [], source: 'syn' }],
        interactions: [
          { a: 'gamma', b: 'alpha', severity: 'low', mechanism: 'Synthetic.', management: 'Synthetic.', source: 'syn' },
        ],
      }),
    );
    const report = await importKnowledge(kb.store, file, { by: 'test' });
    expect(report.entities.added).toBe(1);
    expect((await kb.store.snapshot()).facts.get('ix:drug:alpha~drug:gamma')?.attrs.severity).toBe('low');
  });

  it('reports every bad row with file, line and column, and changes nothing', async () => {
    const before = await kb.store.counts();
    const dir = folder({
      'sources.csv': SOURCES,
      'ingredients.csv': 'id,name,source\ndelta,Deltamab,syn\nepsilon,Epsilonmab,nosuch\n',
      'interactions.csv': 'a,b,severity,mechanism,management,source\ndelta,alpha,terrible,x,y,syn\n',
      'dose_ranges.csv': 'drug,route,unit,per,min,max,source\ndelta,oral,mg,day,50,10,syn\n',
    });
    const err = failure(() => recordsToBatch(readRecords(dir)));
    expect(err.code).toBe('KB_IMPORT_INVALID');
    const pointers = (err.details as Array<{ pointer: string; message: string }>).map(
      (p) => `${p.pointer}: ${p.message}`,
    );
    expect(pointers).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ingredients\.csv line 3 column source: unknown source key “nosuch”/),
        expect.stringMatching(/^interactions\.csv line 2 column severity:/),
      ]),
    );
    await expect(importKnowledge(kb.store, dir, { by: 'test' })).rejects.toMatchObject({ code: 'KB_IMPORT_INVALID' });
    // A semantically bad range passes the row schema but not the fact schema: still nothing is written.
    const range = folder({
      'sources.csv': SOURCES,
      'ingredients.csv': ING,
      'dose_ranges.csv': 'drug,route,unit,per,min,max,source\nalpha,oral,mg,day,50,10,syn\n',
    });
    await expect(importKnowledge(kb.store, range, { by: 'test' })).rejects.toMatchObject({ code: 'KB_IMPORT_INVALID' });
    expect(await kb.store.counts()).toEqual(before);
  });

  it('refuses references to entities that do not exist, unknown record types and empty folders', async () => {
    const dangling = folder({
      'sources.csv': SOURCES,
      'interactions.csv': 'a,b,severity,mechanism,management,source\nalpha,zeta,low,x,y,syn\n',
    });
    await expect(importKnowledge(kb.store, dangling, { by: 'test' })).rejects.toThrow(
      /facts refer to entities that do not exist: drug:zeta/,
    );
    const json = path.join(root, 'bad.json');
    writeFileSync(json, JSON.stringify({ drugs: [] }));
    expect(failure(() => readRecords(json)).message).toMatch(/unknown record type “drugs”/);
    expect(failure(() => readRecords(folder({ 'readme.txt': 'nothing' }))).message).toMatch(
      /holds none of sources\.csv/,
    );
    expect(failure(() => readRecords(folder({ 'sources.csv': 'key,label\n"open' }))).message).toMatch(
      /^sources\.csv: unterminated quoted field/,
    );
    expect(failure(() => readRecords(path.join(root, 'missing'))).message).toMatch(/does not exist/);
  });
});

describe('packs and older-adult rules', () => {
  it('loads sub-folders after the folder itself, reports a duplicate entity with both places, and imports older_adult rows', async () => {
    const dir = folder({ 'sources.csv': SOURCES, 'ingredients.csv': ING });
    mkdirSync(path.join(dir, 'geri'), { recursive: true });
    writeFileSync(
      path.join(dir, 'geri', 'conditions.csv'),
      'id,name,parents,synonyms,names_zh,icd10,source\nfalls,History of falls,,falls,,,syn\n',
    );
    writeFileSync(
      path.join(dir, 'geri', 'older_adult.csv'),
      [
        'drug,condition,with,action,rationale,recommendation,quality,strength,source',
        'alpha,,,avoid,Synthetic rationale A.,Synthetic recommendation A.,moderate,strong,syn',
        'alpha,falls,,avoid,Synthetic rationale falls.,Synthetic recommendation falls.,,,syn',
        'alpha,,beta,caution,Synthetic rationale pair.,Synthetic recommendation pair.,low,weak,syn',
      ].join('\n'),
    );
    const raw = readRecords(dir);
    expect(raw.older_adult?.map((r) => r.where)).toEqual([
      'geri/older_adult.csv line 2',
      'geri/older_adult.csv line 3',
      'geri/older_adult.csv line 4',
    ]);
    const batch = recordsToBatch(raw);
    const rules = batch.facts.filter((f) => f.relation === 'older_adult');
    expect(rules.map((f) => f.attrs)).toEqual([
      expect.objectContaining({ ageMin: 65, action: 'avoid', condition: null, with: null, quality: 'moderate' }),
      expect.objectContaining({ condition: 'cond:falls', with: null }),
      expect.objectContaining({ condition: null, with: 'drug:beta', strength: 'weak' }),
    ]);
    const t = await openTestKb('sqlite', null);
    const store = t.store;
    await store.importBatch(batch, { source: 'packs', by: 'test' });
    const snap = await store.snapshot();
    const base = { medications: [{ name: 'Alphamab', dose: null, route: null, frequencyPerDay: null }] };
    const run = (extra: object) => runCheck(snap, SafetyCheckInput.parse({ kind: 'older_adult', ...base, ...extra }));
    expect(run({ ageBand: '64' }).findings).toEqual([]);
    expect(run({ ageBand: null }).unchecked[0]!.reason).toMatch(/age not recorded/);
    expect(run({ ageBand: '70' }).findings.map((f) => f.summary)).toEqual([
      'Alphamab at age 70: avoid in older adults',
    ]);
    expect(
      run({ ageBand: '90+', conditions: ['falls'] })
        .findings.map((f) => f.explanation)
        .sort(),
    ).toEqual(['Synthetic rationale A.', 'Synthetic rationale falls.']);
    const pair = runCheck(
      snap,
      SafetyCheckInput.parse({
        kind: 'older_adult',
        ageBand: '80',
        medications: [...base.medications, { name: 'Betamab', dose: null, route: null, frequencyPerDay: null }],
      }),
    ).findings.find((f) => f.medications.length === 2)!;
    expect(pair).toMatchObject({ severity: 'low', summary: 'Alphamab with Betamab at age 80: use with caution' });
    expect(pair.management).toBe('Synthetic recommendation pair. (quality of evidence low, strength weak)');
    await t.drop();

    writeFileSync(path.join(dir, 'geri', 'ingredients.csv'), 'id,name,source\nbeta,Betamab again,syn\n');
    const dup = failure(() => recordsToBatch(readRecords(dir)));
    expect(dup.details).toContainEqual({
      pointer: 'geri/ingredients.csv line 2 column id',
      message: 'drug:beta is already defined at ingredients.csv line 3',
    });
  });

  it('refuses an older_adult rule naming a condition and a second drug, or a drug as its condition', async () => {
    const dir = folder({
      'sources.csv': SOURCES,
      'ingredients.csv': ING,
      'older_adult.csv':
        'drug,condition,with,action,rationale,recommendation,source\nalpha,x,beta,avoid,R.,Rec.,syn\nalpha,drug:beta,,avoid,R.,Rec.,syn\n',
    });
    const batch = recordsToBatch(readRecords(dir));
    const t = await openTestKb('sqlite', null);
    try {
      const err = await t.store.importBatch(batch, { source: 'bad', by: 'test' }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(KbError);
      // The first bad fact is reported; fix it and the second is.
      expect((err as KbError).details.map((d) => d.message)).toContain(
        'a rule names a condition or a second drug, not both',
      );
      const second = await t.store
        .importBatch(
          {
            ...batch,
            facts: batch.facts.filter(
              (f) =>
                (f.attrs as { with?: unknown }).with === undefined || (f.attrs as { with?: unknown }).with === null,
            ),
          },
          { source: 'bad', by: 'test' },
        )
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect((second as KbError).details.map((d) => d.message)).toContain('must be a condition (cond:…)');
    } finally {
      await t.drop();
    }
  });
});
