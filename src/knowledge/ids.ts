/**
 * Deterministic fact ids: the same relation between the same entities always gets the same id,
 * so an importer run twice updates instead of duplicating, and a proposal to add a fact that
 * already exists is caught. Ids are cited in plans as `kb:<id>`.
 */
import { createHash } from 'node:crypto';
import type { NewFact } from './model.js';
import { foldText } from './text.js';

const short = (s: string) => createHash('sha1').update(s, 'utf8').digest('hex').slice(0, 10);
const band = (min: number | null, max: number | null) => `${min ?? ''}-${max ?? ''}`;

export function factId(f: Pick<NewFact, 'relation' | 'subject' | 'object' | 'attrs'>): string {
  const a = f.attrs;
  switch (f.relation) {
    case 'known_as':
      return `name:${f.subject}:${short(foldText(String(a.name)))}`;
    case 'coded_as':
      return `code:${f.subject}:${String(a.system)}:${String(a.code)}`;
    case 'interacts_with': {
      const [x, y] = [f.subject, f.object ?? ''].sort();
      return `ix:${x}~${y}`;
    }
    case 'dose_range': {
      const renal = a.renal as { metric: string; min: number | null; max: number | null } | null;
      const criteria = a.criteria ? ':criteria' : '';
      return `dose:${f.subject}:${String(a.route)}:${String(a.per)}:age${band(a.ageMin as number, (a.ageMax as number | null) ?? null)}:${renal ? `${renal.metric}${band(renal.min, renal.max)}` : 'any'}${criteria}`;
    }
    case 'older_adult': {
      const { condition, with: other } = a as { condition?: string | null; with?: string | null };
      return `older:${f.subject}${condition ? `:in:${condition}` : ''}${other ? `:with:${other}` : ''}`;
    }
    case 'guideline_recommendation':
      return `gl:${f.subject}:${short(String(a.statement))}`;
    default: {
      const prefix = {
        has_ingredient: 'ing',
        member_of_class: 'member',
        contraindicated_in: 'ci',
        cross_reacts_with: 'xr',
        monitors: 'mon',
        treats: 'treats',
      }[f.relation];
      return `${prefix}:${f.subject}~${f.object ?? ''}`;
    }
  }
}
