/**
 * Markdown renderings of the CLI's results, for a clinician to read: headings, tables for
 * results and medications, findings grouped by severity with their sources.
 */
import type { LabView, MedicationView } from '../domain/minimised-case.js';
import { SECTION_NAMES, SEVERITY_RANK, type Severity } from '../domain/plan.js';
import type { CaseRunResult, CaseSubmitResult, KbCheckResult, KbSearchResult } from './output.js';

/** Table cell text: one line, pipes escaped. */
type Cell = string | number | boolean | null | undefined;
const cell = (v: Cell): string =>
  v === null || v === undefined || v === '' ? '—' : String(v).replace(/\s+/g, ' ').replace(/\|/g, '\\|');

function table(head: readonly string[], rows: ReadonlyArray<readonly Cell[]>): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

const SECTION_TITLES: Record<(typeof SECTION_NAMES)[number], string> = {
  assessment: 'Assessment',
  recommendations: 'Recommendations',
  medicationChanges: 'Medication changes',
  monitoring: 'Monitoring',
  patientCommunication: 'Patient communication',
};

const SEVERITY_ORDER = (Object.keys(SEVERITY_RANK) as Severity[]).sort((a, b) => SEVERITY_RANK[b] - SEVERITY_RANK[a]);
const title = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const days = (n: number | null | undefined) =>
  n === null || n === undefined ? null : n === 0 ? 'today' : `${n} d ago`;

function resultValue(l: LabView): string {
  const main =
    l.value !== null ? `${l.value}${l.unit ? ` ${l.unit}` : ''}` : (l.valueText ?? (l.components.length ? '' : '—'));
  const parts = l.components.map((c) => `${c.name} ${c.value ?? c.valueText ?? '—'}${c.unit ? ` ${c.unit}` : ''}`);
  return [main, ...parts].filter(Boolean).join('; ');
}

function trend(l: LabView): string | null {
  if (!l.trend || !l.previous) return null;
  const arrow = l.trend === 'up' ? '↑' : l.trend === 'down' ? '↓' : '→';
  return `${arrow} from ${l.previous.value ?? l.previous.valueText ?? '—'}`;
}

function medicationRow(m: MedicationView): Cell[] {
  const rx = m.codes.find((c) => c.system === 'rxnorm');
  return [
    m.name,
    m.doseText ?? (m.dose ? `${m.dose.value} ${m.dose.unit}` : null),
    [m.frequency, m.asNeeded ? `as needed${m.asNeededFor ? ` for ${m.asNeededFor}` : ''}` : null]
      .filter(Boolean)
      .join(', '),
    m.route,
    m.status,
    rx ? `RxNorm ${rx.code}` : null,
  ];
}

export function caseRunMarkdown(r: CaseRunResult): string {
  const v = r.view;
  const out: string[] = [];
  out.push(`# Case ${r.caseId}`);
  out.push(
    [
      `**Question:** ${v.question}`,
      `**Patient:** ${v.patient.age ?? 'age not recorded'}${v.patient.sex ? `, ${v.patient.sex}` : ''}`,
      `**Status:** ${r.status.replace('_', ' ')} (revision ${r.revision}) · **Mode:** ${r.mode} · **Most severe finding:** ${r.maxSeverity ?? 'none'}`,
      `*${r.plan.label}*`,
    ].join('  \n'),
  );

  out.push('## Key results');
  out.push(
    v.keyResults.length
      ? table(
          ['Test', 'Latest', 'When', 'Trend', 'Flag', 'Reference'],
          v.keyResults.map((l) => [
            l.name,
            resultValue(l),
            days(l.daysBeforeCase),
            trend(l),
            l.interpretation,
            l.referenceRange,
          ]),
        )
      : '_No key results recorded._',
  );
  if (v.counts.notListed.keyResults) out.push(`_${v.counts.notListed.keyResults} more key results not listed._`);

  out.push('## Current medications');
  out.push(
    v.medications.length
      ? table(['Medication', 'Dose', 'Frequency', 'Route', 'Status', 'Code'], v.medications.map(medicationRow))
      : '_No current medications._',
  );
  const problemsWithDosage = v.medications.filter((m) => m.problems.length);
  for (const m of problemsWithDosage) out.push(`- ⚠ ${m.name}: ${m.problems.join('; ')}`);

  out.push('## Problems');
  out.push(
    v.problems.length
      ? v.problems
          .map((p) => {
            const when = days(p.onsetDaysBeforeCase);
            return `- ${p.text}${p.status ? ` (${p.status})` : ''}${when ? `, since ${when}` : ''}`;
          })
          .join('\n')
      : '_No current problems._',
  );

  out.push('## Allergies');
  out.push(
    v.allergies.length
      ? table(
          ['Substance', 'Criticality', 'Reactions', 'Category'],
          v.allergies.map((a) => [a.substance, a.criticality, a.reactions.join(', '), a.category.join(', ')]),
        )
      : '_No allergies recorded._',
  );

  const c = v.counts;
  out.push(
    `_Record: ${c.observations} observations over ${c.tests} tests (${c.keyResults} key, ${c.otherResults} other listed), ` +
      `${c.medications} current medications (${Object.entries(c.medicationsByStatus)
        .map(([s, n]) => `${n} ${s}`)
        .join(', ')}), ${c.problems} current and ${c.resolvedProblems} resolved problems, ${c.allergies} allergies, ` +
      `${c.imagingStudies} imaging studies, ${c.notes} notes._`,
  );

  out.push('## Plan');
  for (const name of SECTION_NAMES) {
    const recs = r.plan.sections[name];
    if (!recs.length) continue;
    out.push(`### ${SECTION_TITLES[name]}`);
    out.push(
      recs
        .map(
          (rec) =>
            `- ${rec.supported ? '' : '**(unsupported)** '}${rec.text}${rec.citations.length ? ` — ${rec.citations.map((id) => `\`${id}\``).join(', ')}` : ''}`,
        )
        .join('\n'),
    );
  }
  if (r.plan.unavailable.length) {
    out.push('### Not checked');
    out.push(
      r.plan.unavailable.map((u) => `- ${u.type} (${u.stepId}): ${u.reason}${u.code ? ` [${u.code}]` : ''}`).join('\n'),
    );
  }

  out.push('## Verification findings');
  if (!r.findings.length) out.push('_No findings._');
  for (const severity of SEVERITY_ORDER) {
    const fs = r.findings.filter((f) => f.severity === severity);
    if (!fs.length) continue;
    out.push(`### ${title(severity)} (${fs.length})`);
    out.push(
      fs
        .map(
          (f) =>
            `- **${f.code}**: ${f.message}${f.location ? ` _(at ${f.location})_` : ''}${f.citations.length ? ` — ${f.citations.map((id) => `\`${id}\``).join(', ')}` : ''}`,
        )
        .join('\n'),
    );
  }

  if (r.evidence.length) {
    out.push('## Sources cited');
    out.push(
      table(
        ['Id', 'Evidence', 'Source'],
        r.evidence.map((e) => [`\`${e.id}\``, e.title, e.url ? `${e.source} (${e.url})` : e.source]),
      ),
    );
  }
  return `${out.join('\n\n')}\n`;
}

export function caseSubmitMarkdown(r: CaseSubmitResult): string {
  const v = r.case;
  const s = v.summary;
  const lines = [
    `# Case ${v.caseId}`,
    [
      `**Status:** ${v.status.replace('_', ' ')} (revision ${v.revision}) · **Priority:** ${v.priority} · **Mode:** ${v.mode}`,
      `**Most severe finding:** ${v.maxSeverity ?? 'none'}`,
      `**API:** ${r.baseUrl} (${r.created ? 'submitted' : 'already known: not submitted again'})`,
    ].join('  \n'),
  ];
  if (s)
    lines.push(
      table(
        ['Conditions', 'Medications', 'Allergies', 'Observations', 'Imaging studies', 'Notes'],
        [[s.conditions, s.medications, s.allergies, s.observations, s.imagingStudies, s.notes]],
      ),
    );
  lines.push(`**Steps completed:** ${v.completedSteps.length ? v.completedSteps.join(' → ') : 'none'}`);
  if (v.error) lines.push(`**Error:** ${v.error.code}: ${v.error.message}`);
  if (v.status === 'awaiting_review')
    lines.push('_The draft plan waits for a reviewer (review UI at /review); the API returns the plan once approved._');
  if (v.plan) lines.push('## Approved plan', '```json', JSON.stringify(v.plan, null, 2), '```');
  return `${lines.join('\n\n')}\n`;
}

export function kbSearchMarkdown(r: KbSearchResult): string {
  const out = [`# “${r.term}” in the knowledge base (${r.version})`];
  if (r.resolved.length) {
    for (const e of r.resolved) {
      out.push(`## ${e.name}`);
      out.push(
        [
          `- **Entity:** \`${e.id}\` (${e.type})`,
          `- **Matched:** “${e.matchedName}” (${e.match})`,
          `- **Codes:** ${e.codes.length ? e.codes.map((c) => `${c.system.toUpperCase()} ${c.code}`).join(', ') : 'none held'}`,
          `- **Classes:** ${e.classes.length ? e.classes.map((c) => c.name).join(' → ') : 'none'}`,
        ].join('\n'),
      );
    }
  } else {
    out.push(`**Not in the knowledge base.**`);
    out.push(
      r.suggestions.length
        ? `Did you mean: ${r.suggestions.map((x) => `**${x.name}** (\`${x.id}\`, ${x.type})`).join(', ')}?`
        : 'No close names.',
    );
  }
  if (r.matches.length) {
    out.push('## Other entities with this name or containing it');
    out.push(
      table(
        ['Entity', 'Type', 'Name', 'Matched name'],
        r.matches.map((m) => [m.id, m.type, m.name, m.matchedName]),
      ),
    );
  }
  return `${out.join('\n\n')}\n`;
}

export function kbCheckMarkdown(r: KbCheckResult): string {
  const out = [`# Knowledge-base checks (${r.version})`];
  const meds = r.input.medications.map(
    (m) =>
      `${m.name}${m.dose ? ` ${m.dose.value} ${m.dose.unit}` : ''}${m.frequencyPerDay !== null ? ` × ${m.frequencyPerDay}/day` : ''}${m.route ? ` ${m.route}` : ''}`,
  );
  out.push(
    [
      `**Medications:** ${meds.join(', ')}`,
      r.input.allergies.length ? `**Allergies:** ${r.input.allergies.join(', ')}` : null,
      r.input.conditions.length ? `**Conditions:** ${r.input.conditions.join(', ')}` : null,
      r.input.egfr !== null ? `**eGFR:** ${r.input.egfr} mL/min/1.73m²` : null,
      r.input.age !== null ? `**Age:** ${r.input.age}` : null,
      `**Checks run:** ${r.checks.map((c) => `${c.kind.replace('_', ' ')} (${c.findings})`).join(', ')}`,
    ]
      .filter(Boolean)
      .join('  \n'),
  );
  out.push('## Findings');
  if (!r.findings.length) out.push('_No findings: the knowledge base holds nothing against these._');
  for (const severity of SEVERITY_ORDER) {
    const fs = r.findings.filter((f) => f.severity === severity);
    if (!fs.length) continue;
    out.push(`### ${title(severity)} (${fs.length})`);
    for (const f of fs) {
      out.push(
        [
          `**${f.summary}** _(${f.kind.replace('_', ' ')})_`,
          '',
          f.explanation,
          ...(f.management ? ['', `**Management:** ${f.management}`] : []),
          '',
          '**Sources:**',
          ...f.sources.map(
            (s) => `- \`kb:${s.factId}\` — ${s.statement} _(${s.label}; fact v${s.version}, ${s.addedBy})_`,
          ),
        ].join('\n'),
      );
    }
  }
  const notChecked = r.checks.flatMap((c) =>
    c.unchecked.map((u) => `- ${c.kind.replace('_', ' ')}: ${u.term}: ${u.reason}`),
  );
  if (notChecked.length) out.push('## Not checked', [...new Set(notChecked)].join('\n'));
  const sources = new Map(r.findings.flatMap((f) => f.sources).map((s) => [s.label, s]));
  if (sources.size)
    out.push(
      '## Sources',
      table(
        ['Source', 'Citation', 'Link'],
        [...sources.values()].map((s) => [s.label, s.citation, s.url]),
      ),
    );
  return `${out.join('\n\n')}\n`;
}
