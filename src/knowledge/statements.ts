/**
 * Readable sentences for facts, generated from the relation and its attributes: what a
 * reviewer sees next to a citation `kb:<id>`.
 */
import { text } from '../infra/sql.js';
import type { KbFact } from '../domain/knowledge.js';
import type { StoredFact } from './model.js';
import type { KbSnapshot } from './snapshot.js';

const nameOf = (kb: KbSnapshot | null, id: string | null) => (id ? (kb?.entities.get(id)?.name ?? id) : '');

function renalText(r: { metric: string; min: number | null; max: number | null } | null): string {
  if (!r) return '';
  const metric = r.metric === 'egfr' ? 'eGFR' : 'CrCl';
  if (r.min !== null && r.max !== null) return ` when ${metric} is ${r.min}–${r.max} mL/min`;
  return r.min !== null ? ` when ${metric} ≥ ${r.min} mL/min` : ` when ${metric} < ${r.max} mL/min`;
}

export function statementOf(f: StoredFact, kb: KbSnapshot | null): string {
  const s = nameOf(kb, f.subject);
  const o = nameOf(kb, f.object);
  const a = f.attrs;
  switch (f.relation) {
    case 'has_ingredient':
      return `${s} contains ${o}`;
    case 'member_of_class':
      return `${s} belongs to ${o}`;
    case 'known_as':
      return `${s} is also written “${text(a.name)}” (${text(a.kind)}${a.lang && a.lang !== 'en' ? `, ${text(a.lang)}` : ''})`;
    case 'coded_as':
      return `${s} has ${text(a.system).toUpperCase()} code ${text(a.code)}`;
    case 'interacts_with':
      return `${s} interacts with ${o} (${text(a.severity)}): ${text(a.mechanism)} Management: ${text(a.management)}`;
    case 'contraindicated_in':
      return `${s} in ${o} (${text(a.severity)}): ${text(a.note)}`;
    case 'cross_reacts_with':
      return `${s} allergy and ${o} (${text(a.severity)}): ${text(a.note)}`;
    case 'dose_range': {
      const age = a.ageMax === null ? `age ≥ ${text(a.ageMin)}` : `age ${text(a.ageMin)}–${text(a.ageMax)}`;
      const c = a.criteria as {
        atLeast: number;
        ageMin: number | null;
        weightMaxKg: number | null;
        creatinineMinMgDl: number | null;
      } | null;
      const criteria = c
        ? `, when at least ${c.atLeast} of: ${[c.ageMin !== null ? `age ≥ ${c.ageMin}` : '', c.weightMaxKg !== null ? `weight ≤ ${c.weightMaxKg} kg` : '', c.creatinineMinMgDl !== null ? `creatinine ≥ ${c.creatinineMinMgDl} mg/dL` : ''].filter(Boolean).join(', ')}`
        : '';
      const where = `${text(a.route)}, ${age}${renalText(a.renal as never)}${criteria}`;
      if (a.action !== 'range')
        return `${s} (${where}): ${a.action === 'avoid' ? 'avoid' : 'contraindicated'}. ${text(a.note)}`.trim();
      const range =
        a.min !== null && a.max !== null
          ? `${text(a.min)}–${text(a.max)}`
          : a.max !== null
            ? `up to ${text(a.max)}`
            : `at least ${text(a.min)}`;
      return `${s} (${where}): ${range} ${text(a.unit)} per ${text(a.per)}. ${text(a.note)}`.trim();
    }
    case 'monitors':
      return `${s}: monitor ${o}. ${text(a.note)}`;
    case 'treats':
      return `${s} is used for ${o}${a.note ? `: ${text(a.note)}` : ''}${a.alternative === false ? ' (never proposed as an alternative)' : ''}`;
    case 'guideline_recommendation':
      return `${s}: ${text(a.statement)}`;
    case 'older_adult': {
      const { condition, with: other } = a as { condition?: string | null; with?: string | null };
      const count = (a as { minCount?: number | null }).minCount;
      const scope = condition
        ? ` with ${nameOf(kb, condition)}`
        : other
          ? ` together with ${nameOf(kb, other)}`
          : count
            ? ` (${String(count)} or more of them together)`
            : '';
      const grade = [
        a.quality ? `quality of evidence ${text(a.quality)}` : '',
        a.strength ? `strength ${text(a.strength)}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      return `${s} at age ≥ ${text(a.ageMin)}${scope}: ${a.action === 'avoid' ? 'avoid' : 'use with caution'}. ${text(a.rationale)} Recommendation: ${text(a.recommendation)}${grade ? ` (${grade})` : ''}`;
    }
  }
}

export function toKbFact(f: StoredFact, kb: KbSnapshot | null): KbFact {
  return {
    id: f.id,
    relation: f.relation,
    subject: f.subject,
    object: f.object,
    statement: statementOf(f, kb),
    source: { label: f.source.label, citation: f.source.citation, url: f.source.url },
    addedBy: f.addedBy,
    addedAt: f.addedAt,
    version: f.version,
    status: f.status,
  };
}
