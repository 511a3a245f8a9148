/**
 * The review UI's pages, rendered on the server (no client framework): sign-in, the queue, and
 * one case revision. Every value from a case goes through `html` and is escaped. Native forms
 * and buttons keep it usable from the keyboard; `client/review.js` adds lease renewal, the
 * lease-loss banner, polling for a revised plan and for delivery, and a few shortcuts.
 */
import { TERMINAL_STATUSES } from '../../cases/lifecycle.js';
import type { CaseView } from '../../domain/case.js';
import type { DiffEntry, PlanDiff } from '../../domain/plan-diff.js';
import type { MinimisedCase } from '../../domain/minimised-case.js';
import {
  SECTION_NAMES,
  SEVERITY_RANK,
  type Evidence,
  type PartProvenance,
  type PlanProvenance,
  type PlanSections,
  type ReviewerComment,
  type Severity,
  type VerificationFinding,
} from '../../domain/plan.js';
import type { AuditEvent, DecisionRecord, ReviewListItem } from '../../domain/review.js';
import type { ReviewDetail } from '../routes/reviews.js';
import { caseSummary } from './case-summary.js';
import { LEVEL_LABEL } from '../../domain/literature.js';
import { html, join, type Html } from './html.js';

export interface PageUser {
  name: string;
  roles: readonly string[];
  /** For a session: how long until it ends without activity, and the inactivity allowed (the page warns before). */
  idle?: { remainingMs: number; seconds: number };
}

export interface Flash {
  kind: 'error' | 'info';
  text: string;
}

const SECTION_TITLES: Record<keyof PlanSections, string> = {
  assessment: 'Assessment',
  recommendations: 'Recommendations',
  medicationChanges: 'Medication changes',
  monitoring: 'Monitoring',
  patientCommunication: 'Patient communication',
};

const severityBadge = (s: Severity | null) =>
  s
    ? html`<span class="badge sev-${s}" title="most severe verification finding">${s}</span>`
    : html`<span class="badge sev-none">none</span>`;
const ago = (seconds: number) =>
  seconds < 90
    ? `${seconds} s`
    : seconds < 5400
      ? `${Math.round(seconds / 60)} min`
      : seconds < 129_600
        ? `${Math.round(seconds / 3600)} h`
        : `${Math.round(seconds / 86_400)} d`;
export const caseUrl = (caseId: string, revision: number) => `/review/cases/${encodeURIComponent(caseId)}/${revision}`;

function layout(
  title: string,
  user: PageUser | null,
  csrf: string | null,
  body: Html,
  flash?: Flash | null,
  meta: Record<string, string> = {},
): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · clinical-orchestrator review</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/review/static/review.css">
${csrf ? html`<meta name="csrf-token" content="${csrf}">` : ''}
${join(Object.entries(meta).map(([k, v]) => html`<meta name="${k}" content="${v}">`))}
${user?.idle ? html`<meta name="session-idle-ms" content="${String(Math.max(0, Math.round(user.idle.remainingMs)))}"><meta name="session-idle-seconds" content="${String(user.idle.seconds)}">` : ''}
<script src="/review/static/review.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/review">clinical-orchestrator · review</a>
  ${
    user
      ? html`<nav aria-label="account"><span class="who">${user.name} (${user.roles.join(', ')})</span>
      ${user.roles.some((r) => r === 'ops' || r === 'admin') ? html`<a href="/ops/queues">Queues (ops)</a>` : ''}
      <form method="post" action="/review/logout" class="inline"><input type="hidden" name="_csrf" value="${csrf ?? ''}"><button type="submit" class="link">Sign out</button></form></nav>`
      : ''
  }
</header>
<div id="lease-banner" class="banner error" role="alert" hidden></div>
${user?.idle ? html`<div id="idle-banner" class="banner warn" role="alertdialog" aria-labelledby="idle-text" hidden><span id="idle-text"></span> <button type="button" id="stay-signed-in" class="primary">Stay signed in</button></div>` : ''}
${flash ? html`<div class="banner ${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}" id="flash">${flash.text}</div>` : ''}
<main id="main" tabindex="-1">
${body}
</main>
<footer class="foot">Decision support only. Every plan needs a recorded human decision before it reaches anyone.</footer>
</body>
</html>`;
}

export function loginPage(next: string, flash: Flash | null): Html {
  return layout(
    'Sign in',
    null,
    null,
    html`<section class="card narrow" aria-labelledby="signin">
  <h1 id="signin">Sign in</h1>
  <form method="post" action="/review/login" class="stack">
    <input type="hidden" name="next" value="${next}">
    <label for="name">Account</label>
    <input id="name" name="name" autocomplete="username" required autofocus>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit" class="primary">Sign in</button>
  </form>
</section>`,
    flash,
  );
}

export function queuePage(user: PageUser, csrf: string, items: readonly ReviewListItem[], flash: Flash | null): Html {
  const waiting = items.filter((i) => i.state === 'waiting').length;
  const rows = items.map(
    (i) => html`<tr data-state="${i.state}">
  <td>${severityBadge(i.maxSeverity)}</td>
  <td><span class="prio prio-${i.casePriority}">${i.casePriority}</span></td>
  <td><a href="${caseUrl(i.caseId, i.revision)}">${i.caseId}</a></td>
  <td>${i.revision}</td>
  <td>${join(
    (['critical', 'high', 'moderate', 'low', 'info'] as const)
      .filter((s) => i.findings[s])
      .map((s) => html`<span class="count sev-${s}" title="${s} findings">${i.findings[s]} ${s}</span>`),
    ' ',
  )}</td>
  <td><time datetime="${i.enqueuedAt}">${ago(i.waitingSeconds)}</time></td>
  <td>${i.state === 'claimed' ? html`claimed by <strong>${i.claimedBy ?? '?'}</strong>` : 'waiting'}</td>
  <td>${
    i.state === 'waiting'
      ? html`<form method="post" action="${caseUrl(i.caseId, i.revision)}/claim" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit">Claim</button></form>`
      : i.claimedBy === user.name
        ? html`<a href="${caseUrl(i.caseId, i.revision)}">Continue</a>`
        : ''
  }</td>
</tr>`,
  );
  return layout(
    'Review queue',
    user,
    csrf,
    html`<section aria-labelledby="queue-title">
  <div class="row">
    <h1 id="queue-title">Review queue</h1>
    <form method="post" action="/review/claim-next" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit" class="primary" data-shortcut="n" ${waiting ? '' : 'disabled'}>Claim next <kbd>n</kbd></button></form>
  </div>
  <p class="muted">${waiting} waiting, ${items.length - waiting} claimed. Ordered by case priority, then the most severe verification finding, then age. <span id="queue-refresh" class="muted"></span></p>
  ${
    items.length
      ? html`<table class="queue" data-autorefresh="15000">
    <caption class="visually-hidden">Plans waiting for review</caption>
    <thead><tr><th scope="col">Severity</th><th scope="col">Priority</th><th scope="col">Case</th><th scope="col">Revision</th><th scope="col">Findings</th><th scope="col">Waiting</th><th scope="col">State</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
    <tbody>${rows}</tbody>
  </table>`
      : html`<p class="empty" data-autorefresh="5000">Nothing is waiting for review.</p>`
  }
</section>`,
    flash,
  );
}

/** An entry of the case view a `case:<ref>` citation can name: what kind of entry it is and its name as shown. */
interface CaseEntry {
  kind: string;
  name: string;
}

/** What a plan's citations resolve against: retrieved evidence, the entries of the case view, the reviewer comments. */
interface CiteContext {
  evidence: ReadonlyMap<string, Evidence>;
  /** The case view's entries by ref (the case summary anchors each at `ref-<ref>`); null when the revision has no view. */
  caseEntries: ReadonlyMap<string, CaseEntry> | null;
  /** Reviewer comments by the revision they were made on (`review:r<n>`). */
  comments: ReadonlyMap<number, ReviewerComment>;
  /** Whether the page shows the comments (with their `comment-r<n>` anchors). */
  commentsShown: boolean;
}

/** Every entry of the view that carries a ref, with the name the case summary shows for it. */
function caseEntries(view: MinimisedCase | null): Map<string, CaseEntry> | null {
  if (!view) return null;
  const out = new Map<string, CaseEntry>();
  const add = <T extends { ref: string }>(kind: string, items: readonly T[], name: (x: T) => string) => {
    for (const x of items) if (!out.has(x.ref)) out.set(x.ref, { kind, name: name(x) });
  };
  add('problem', view.problems, (p) => p.text);
  add('resolved problem', view.resolvedProblems, (p) => p.text);
  add('medication', view.medications, (m) => m.name);
  add('allergy', view.allergies, (a) => a.substance);
  add('result', view.labs, (l) => l.name);
  add('result', view.otherLabs, (l) => l.name);
  add(
    'imaging study',
    view.imaging,
    (i) => [i.modality, i.bodySite, i.description].filter(Boolean).join(', ') || i.ref,
  );
  add('note', view.notes, (n) => n.source);
  return out;
}

/** The case view's lists a finding's JSON Pointer can point into (`/medications/0`, `/notes/2/text`). */
const VIEW_LISTS = [
  'problems',
  'resolvedProblems',
  'medications',
  'allergies',
  'labs',
  'otherLabs',
  'imaging',
  'notes',
] as const;
type ViewList = (typeof VIEW_LISTS)[number];
const isViewList = (name: string): name is ViewList => (VIEW_LISTS as readonly string[]).includes(name);

/** The ref of the view entry a JSON Pointer points into, or null. */
function pointerRef(pointer: string, view: MinimisedCase | null): string | null {
  const m = /^\/([A-Za-z]+)\/(\d+)(?:\/|$)/.exec(pointer);
  if (!view || !m || !isViewList(m[1]!)) return null;
  const list: readonly { ref: string }[] = view[m[1]];
  return list[Number(m[2])]?.ref ?? null;
}

const reviewRevision = (id: string): number | null => {
  const m = /^review:r(\d+)$/.exec(id);
  return m ? Number(m[1]) : null;
};

/** Whether a citation id resolves: true, false, or null when it cannot be checked (a `case:` id without a view). */
function resolves(id: string, ctx: CiteContext): boolean | null {
  if (id.startsWith('case:')) return ctx.caseEntries ? ctx.caseEntries.has(id.slice(5)) : null;
  if (id.startsWith('review:')) {
    const n = reviewRevision(id);
    return n !== null && ctx.comments.has(n);
  }
  return ctx.evidence.has(id);
}

const unresolved = (id: string, what: string) =>
  html`<li class="cite cite-missing"><strong>${id}</strong> <span class="warn">does not resolve to ${what}</span></li>`;

function citation(id: string, ctx: CiteContext): Html {
  if (id.startsWith('case:')) {
    const ref = id.slice(5);
    if (!ctx.caseEntries)
      return html`<li class="cite cite-case cite-unchecked"><span class="kind">Case</span> <code>${id}</code> <span class="muted">case record not available to check</span></li>`;
    const entry = ctx.caseEntries.get(ref);
    if (!entry) return unresolved(id, 'an entry of the case record');
    return html`<li class="cite cite-case"><span class="kind">Case</span> <a href="#ref-${ref}">${id}</a> <span class="muted">the case record: ${entry.kind} ${entry.name}</span></li>`;
  }
  if (id.startsWith('review:')) {
    const n = reviewRevision(id);
    const c = n === null ? undefined : ctx.comments.get(n);
    if (n === null || !c) return unresolved(id, 'reviewer comments recorded for this case');
    return html`<li class="cite cite-review"><span class="kind">Review</span> ${ctx.commentsShown ? html`<a href="#comment-r${n}">${id}</a>` : html`<code>${id}</code>`} <span class="muted">reviewer comments on revision ${n} (${c.reviewer})</span></li>`;
  }
  const e = ctx.evidence.get(id);
  if (!e) return unresolved(id, 'evidence retrieved for this case');
  switch (e.kind) {
    case 'kb_fact':
      return html`<li class="cite cite-kb"><span class="kind">KB</span> <code>${id}</code> ${e.title} <span class="muted">— ${e.source}${e.detail ? ` (${e.detail})` : ''}</span></li>`;
    case 'pubmed':
      return html`<li class="cite cite-pubmed"><span class="kind">PubMed</span> <a href="${e.url ?? '#'}" rel="noopener noreferrer" target="_blank">PMID ${id.slice(5)}</a>${e.level ? html` <span class="level level-${e.level}" title="evidence level, from publication types and study-design MeSH">${LEVEL_LABEL[e.level]}</span>` : ''} ${e.title}${e.source ? html` <span class="muted">— ${e.source}</span>` : ''}${
        e.quote
          ? html`<blockquote class="quote" cite="${e.url ?? ''}"><span class="quote-section">${e.quote.section ?? 'abstract'}</span> <mark>${e.quote.text}</mark> <span class="muted small">(characters ${String(e.quote.start)}–${String(e.quote.end)})</span></blockquote>`
          : ''
      }</li>`;
    case 'imaging':
      return html`<li class="cite cite-imaging"><span class="kind">Imaging model</span> <code>${id}</code> ${e.title} <span class="muted">— model ${e.source}${e.detail ? `; ${e.detail}` : ''}</span></li>`;
    default:
      return html`<li class="cite">${id} ${e.title}</li>`;
  }
}

/** The chain of facts behind a recommendation (finding → rule → alternative → checks passed), as a readable "why". */
function whyChain(why: PlanSections['assessment'][number]['why'], ctx: CiteContext): Html {
  return html`<details class="why" open><summary>Why (${String(why.length)} step${why.length === 1 ? '' : 's'})</summary>
  <ol class="why-steps" aria-label="why">${why.map(
    (w) =>
      html`<li>${w.text}${
        w.citations.length
          ? html` <span class="why-cites">${join(
              w.citations.map((c) =>
                resolves(c, ctx) === false
                  ? html`<code class="cite-missing" title="does not resolve">${c}<span class="visually-hidden"> (does not resolve)</span></code>`
                  : html`<code>${c}</code>`,
              ),
              ' ',
            )}</span>`
          : ''
      }</li>`,
  )}</ol>
</details>`;
}

/** The findings on one statement, beside it: each links to the finding in the main list. */
function recFindings(findings: readonly VerificationFinding[]): Html | '' {
  if (!findings.length) return '';
  return html`<ul class="rec-findings" aria-label="verification findings on this statement">${findings.map(
    (f) =>
      html`<li class="rec-finding sev-border-${f.severity}"><a href="#finding-${f.id}">${severityBadge(f.severity)} <span class="code">${f.code.replace(/_/g, ' ')}</span></a> ${f.message}</li>`,
  )}</ul>`;
}

function planSections(
  sections: PlanSections,
  ctx: CiteContext,
  findingsByRec: ReadonlyMap<string, readonly VerificationFinding[]>,
): Html {
  return join(
    SECTION_NAMES.map((name) => {
      const recs = sections[name];
      return html`<section class="plan-section" aria-labelledby="sec-${name}">
  <h3 id="sec-${name}">${SECTION_TITLES[name]}</h3>
  ${
    recs.length
      ? html`<ol class="recs">${recs.map((r) => {
          const on = findingsByRec.get(r.id) ?? [];
          return html`<li class="rec${r.supported ? '' : ' unsupported'}${on[0] ? ` flagged sev-border-${on[0].severity}` : ''}" id="rec-${r.id}">
      <p>${r.text}</p>
      ${r.support?.status === 'not_checked' ? html`<p class="support-note muted small">Support not checked by code: ${r.support.reason ?? 'no reason recorded'}.</p>` : ''}
      ${recFindings(on)}
      <div class="${r.why.length ? 'rec-grid' : 'rec-one'}">
      ${r.why.length ? whyChain(r.why, ctx) : ''}
      <div class="rec-cites">${r.citations.length ? html`<ul class="cites" aria-label="citations">${r.citations.map((c) => citation(c, ctx))}</ul>` : html`<p class="muted small">No citations${r.supported ? '' : ' (stated as not checked)'}.</p>`}</div>
      </div>
    </li>`;
        })}</ol>`
      : html`<p class="muted">Nothing in this section.</p>`
  }
</section>`;
    }),
  );
}

function diffView(diff: PlanDiff): Html {
  const entry = (e: DiffEntry) => {
    switch (e.kind) {
      case 'unchanged':
        return '';
      case 'added':
        return html`<li class="diff-add"><span class="visually-hidden">added: </span>${e.text}</li>`;
      case 'removed':
        return html`<li class="diff-del"><span class="visually-hidden">removed: </span>${e.text}</li>`;
      case 'changed':
        return html`<li class="diff-chg"><div class="diff-del"><span class="visually-hidden">before: </span>${e.before}</div><div class="diff-add"><span class="visually-hidden">after: </span>${e.after}</div></li>`;
    }
  };
  const changed = SECTION_NAMES.filter((s) => diff.sections[s].some((e) => e.kind !== 'unchanged'));
  if (!changed.length) return html`<p class="muted">No recommendation changed.</p>`;
  return html`<p class="muted">${diff.added} added, ${diff.removed} removed, ${diff.changed} changed.</p>${join(changed.map((s) => html`<h4>${SECTION_TITLES[s]}</h4><ul class="diff">${diff.sections[s].map(entry)}</ul>`))}`;
}

function auditTable(events: readonly AuditEvent[]): Html {
  if (!events.length) return html`<p class="muted">No events.</p>`;
  return html`<table class="audit"><thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Actor</th><th scope="col">Revision</th><th scope="col">Detail</th></tr></thead>
<tbody>${events.map(
    (e) =>
      html`<tr><td><time datetime="${e.at}">${e.at.replace('T', ' ').slice(0, 19)}</time></td><td>${e.event.replace(/_/g, ' ')}</td><td>${e.actor}</td><td>${e.revision ?? ''}</td><td class="small">${Object.entries(
        e.detail,
      )
        .filter(([, v]) => v !== null && v !== '')
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ')}</td></tr>`,
  )}</tbody></table>`;
}

function decisionForms(caseId: string, revision: number, csrf: string, sections: PlanSections): Html {
  const action = `${caseUrl(caseId, revision)}/decision`;
  const hidden = html`<input type="hidden" name="_csrf" value="${csrf}">`;
  return html`<section class="card decide" aria-labelledby="decide-title">
  <h2 id="decide-title">Decision</h2>
  <div class="decide-grid">
    <form method="post" action="${action}" class="stack">${hidden}<input type="hidden" name="action" value="approve">
      <p>Approve the plan as drafted.</p>
      <button type="submit" class="primary needs-lease" data-shortcut="a" id="approve">Approve <kbd>a</kbd></button>
    </form>
    <form method="post" action="${action}" class="stack">${hidden}<input type="hidden" name="action" value="request_changes">
      <label for="comments">Request changes: what should change</label>
      <textarea id="comments" name="comments" rows="4" required minlength="3" data-shortcut-focus="r"></textarea>
      <button type="submit" class="needs-lease">Request changes <kbd>r</kbd></button>
    </form>
    <form method="post" action="${action}" class="stack">${hidden}<input type="hidden" name="action" value="reject">
      <label for="reason">Reject: reason</label>
      <textarea id="reason" name="reason" rows="4" required minlength="3" data-shortcut-focus="x"></textarea>
      <button type="submit" class="danger needs-lease">Reject <kbd>x</kbd></button>
    </form>
  </div>
  <details class="editor" id="editor">
    <summary data-shortcut="e">Edit the plan, then approve <kbd>e</kbd></summary>
    <form method="post" action="${action}" class="stack">${hidden}<input type="hidden" name="action" value="edit">
      <p class="muted small">Change the text of any recommendation or tick Remove. Citations stay with their recommendation; the edited plan is verified again before it is finalized, and the difference is recorded.</p>
      ${join(
        SECTION_NAMES.map(
          (name) =>
            html`<fieldset><legend>${SECTION_TITLES[name]}</legend>${sections[name].map(
              (r, i) => html`<div class="edit-rec">
        <label for="text-${name}-${i}">${name} ${i + 1}</label>
        <textarea id="text-${name}-${i}" name="text.${name}.${i}" rows="3">${r.text}</textarea>
        <label class="inline"><input type="checkbox" name="remove.${name}.${i}" value="1"> Remove</label>
        <label class="inline cite-field" for="cite-${name}-${i}">Also cite (PMIDs)
          <input type="text" id="cite-${name}-${i}" name="cite.${name}.${i}" inputmode="numeric" autocomplete="off" pattern="[0-9 ,;]*" placeholder="e.g. 12345678" data-statement="${SECTION_TITLES[name]} ${String(i + 1)}"></label>
      </div>`,
            )}${sections[name].length ? '' : html`<p class="muted small">empty</p>`}</fieldset>`,
        ),
      )}
      <button type="submit" class="primary needs-lease">Save edits and approve</button>
    </form>
    ${literaturePanel(sections)}
  </details>
</section>`;
}

/**
 * Search the literature further and attach a record to a statement of the edit: the search
 * runs on /v1/literature/search (review.js renders the results); "Attach" adds the PMID to the
 * chosen statement's "Also cite" field. On saving, the server fetches each attached record from
 * its literature source and verification checks the statement against it.
 */
function literaturePanel(sections: PlanSections): Html {
  const statements = SECTION_NAMES.flatMap((name) =>
    sections[name].map((_, i) => ({ id: `cite-${name}-${i}`, label: `${SECTION_TITLES[name]} ${String(i + 1)}` })),
  );
  return html`<section class="lit-panel" id="lit-panel" aria-labelledby="lit-title" data-levels="${JSON.stringify(LEVEL_LABEL)}">
    <h3 id="lit-title">Search the literature</h3>
    <p class="muted small">Terms are searched together (PubMed E-utilities, or the local corpus). Attach a record to a statement to cite it; it is fetched from the literature source when you save, and the statement is verified against it.</p>
    <div class="lit-search">
      <label for="lit-terms">Terms (comma-separated)</label>
      <input type="search" id="lit-terms" maxlength="400" placeholder="e.g. metformin, chronic kidney disease">
      <label class="inline"><input type="checkbox" id="lit-humans" checked> Humans only</label>
      <label class="inline" for="lit-since">Last <input type="number" id="lit-since" min="1" max="100" value="10"> years (empty: any)</label>
      <label for="lit-target">Attach to</label>
      <select id="lit-target">${statements.map((s) => html`<option value="${s.id}">${s.label}</option>`)}</select>
      <button type="button" id="lit-search">Search</button>
    </div>
    <p id="lit-status" class="muted small" role="status" aria-live="polite"><noscript>Searching needs JavaScript; you can type PMIDs into a statement's "Also cite" field.</noscript></p>
    <ol id="lit-results" class="lit-results"></ol>
  </section>`;
}

function decisionView(record: DecisionRecord): Html {
  const d = record.decision;
  return html`<section class="card decided" aria-labelledby="decided-title">
  <h2 id="decided-title">Decided: ${d.action.replace('_', ' ')}</h2>
  <p>By <strong>${d.reviewer}</strong> at <time datetime="${d.decidedAt}">${d.decidedAt.replace('T', ' ').slice(0, 19)}</time>.</p>
  ${d.action === 'request_changes' ? html`<blockquote>${d.comments}</blockquote><p id="revision-status" class="muted">The plan is being revised…</p>` : ''}
  ${d.action === 'edit' ? html`<p id="revision-status" class="muted">The edited plan is being verified; it is finalized, or comes back as revision ${record.revision + 1} if a critical finding remains.</p>` : ''}
  ${d.action === 'reject' ? html`<blockquote>${d.reason}</blockquote>` : ''}
  ${record.diff ? html`<h3>Edits</h3>${diffView(record.diff)}` : ''}
  ${
    d.action === 'edit' && d.sources.length
      ? html`<h3>Attached literature</h3><ul class="cites" id="attached-sources">${d.sources.map(
          (e) =>
            html`<li class="cite cite-pubmed"><a href="${e.url ?? '#'}" rel="noopener noreferrer" target="_blank">PMID ${e.id.slice(5)}</a>${e.level ? html` <span class="level level-${e.level}">${LEVEL_LABEL[e.level]}</span>` : ''} ${e.title} <span class="muted">— ${e.source}</span></li>`,
        )}</ul>`
      : ''
  }
</section>`;
}

/** Who wrote one part of the plan, in words; a fallback from the model to code is highlighted with its reason. */
function partWriter(p: PartProvenance, part: 'planner' | 'drafter'): Html {
  const code = part === 'planner' ? 'the knowledge-driven planner' : 'the knowledge-driven drafter';
  const model = p.model ? html` <span class="muted">(model: ${p.model})</span>` : '';
  switch (p.source) {
    case 'llm':
      return html`the model${p.model ? ` (${p.model})` : ''}${p.reason ? html` <span class="muted">— ${p.reason}</span>` : ''}`;
    case 'knowledge-driven':
      return html`${code}${p.reason ? html` <span class="muted">— ${p.reason}</span>` : ''}`;
    case 'llm-fallback':
      return html`<span class="warn">${code} after the model's ${part === 'planner' ? 'plan' : 'draft'} was unusable</span>${p.reason ? `: ${p.reason}` : ''}${model}`;
  }
}

/** "Written by": which parts of the plan came from the model and which from code. Nothing for plans stored before it was recorded. */
function provenanceBlock(provenance: PlanProvenance | null | undefined): Html | '' {
  if (!provenance) return '';
  const row = (label: string, p: PartProvenance | null, part: 'planner' | 'drafter') =>
    html`<dt>${label}</dt><dd class="prov-${p?.source ?? 'unknown'}">${p ? partWriter(p, part) : html`<span class="muted">not recorded</span>`}</dd>`;
  return html`<div class="provenance" role="group" aria-labelledby="prov-title"><p class="prov-title" id="prov-title">Written by</p><dl>${row('Steps planned by', provenance.planner, 'planner')}${row('Text drafted by', provenance.drafter, 'drafter')}</dl></div>`;
}

export interface CasePageInput {
  user: PageUser;
  csrf: string;
  detail: ReviewDetail;
  caseView: CaseView | null;
  audit: readonly AuditEvent[];
  flash: Flash | null;
  leaseMs: number;
}

export function casePage(input: CasePageInput): Html {
  const { user, csrf, detail, caseView } = input;
  const { item, request, claim, decision } = detail;
  const comments = new Map<number, ReviewerComment>();
  for (const c of request.reviewerComments) if (!comments.has(c.revision)) comments.set(c.revision, c);
  const ctx: CiteContext = {
    evidence: new Map(request.evidence.map((e) => [e.id, e])),
    caseEntries: caseEntries(request.view),
    comments,
    commentsShown: detail.diffToPrevious !== null,
  };
  const findings = [...request.findings].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
  const statementIds = new Set(SECTION_NAMES.flatMap((name) => request.plan.sections[name].map((r) => r.id)));
  // Findings on a statement (its id as location), most severe first: shown beside it and counted in its border.
  const findingsByRec = new Map<string, VerificationFinding[]>();
  for (const f of findings)
    if (f.location && statementIds.has(f.location))
      findingsByRec.set(f.location, [...(findingsByRec.get(f.location) ?? []), f]);
  /** Where a finding points: its statement, the entry of the case summary its JSON Pointer names, or just the location. */
  const findingPlace = (location: string) => {
    if (statementIds.has(location)) return html` <a href="#rec-${location}" class="small">${location}</a>`;
    const ref = pointerRef(location, request.view);
    return ref
      ? html` <a href="#ref-${ref}" class="small">${location}</a>`
      : html` <span class="small muted">${location}</span>`;
  };
  const mine = claim !== null;
  const closed = caseView && TERMINAL_STATUSES.includes(caseView.status);
  const status = caseView
    ? html`<p class="status" id="case-status" ${(decision || closed) && caseView.delivery?.status !== 'delivered' ? html`data-poll="1"` : ''}>Case status: <strong>${caseView.status}</strong>${
        caseView.delivery
          ? html` · delivery: <strong class="delivery-${caseView.delivery.status}">${caseView.delivery.status}</strong> (${caseView.delivery.channel})${caseView.delivery.deliveredAt ? html` at <time datetime="${caseView.delivery.deliveredAt}">${caseView.delivery.deliveredAt.replace('T', ' ').slice(0, 19)}</time>` : ''}`
          : ''
      }</p>`
    : '';
  const meta: Record<string, string> = { 'case-id': item.caseId, revision: String(item.revision) };
  if (mine) Object.assign(meta, { 'lease-ms': String(input.leaseMs), 'lease-expires': claim.leaseExpiresAt });

  return layout(
    `${item.caseId} r${item.revision}`,
    user,
    csrf,
    html`<div class="row">
  <h1>${item.caseId} <span class="muted">revision ${item.revision}</span></h1>
  <div class="actions">
    ${severityBadge(item.maxSeverity)} <span class="prio prio-${item.casePriority}">${item.casePriority}</span>
    ${
      mine
        ? html`<span class="lease" id="lease">claimed by you · lease until <time datetime="${claim.leaseExpiresAt}">${claim.leaseExpiresAt.slice(11, 19)}</time></span>
    <form method="post" action="${caseUrl(item.caseId, item.revision)}/release" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit">Release</button></form>`
        : item.state === 'waiting'
          ? html`<form method="post" action="${caseUrl(item.caseId, item.revision)}/claim" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit" class="primary" data-shortcut="c" id="claim">Claim <kbd>c</kbd></button></form>`
          : item.state === 'claimed'
            ? html`<span class="lease other">claimed by ${item.claimedBy ?? 'someone else'}</span>`
            : ''
    }
  </div>
</div>
${status}
<p class="label">${request.plan.label}</p>
${provenanceBlock(request.plan.provenance)}
<div class="grid">
  <section class="card summary" aria-labelledby="summary-title"><h2 id="summary-title">Case summary</h2>${caseSummary(request.view)}</section>
  <div class="main-col">
    <section class="card findings" aria-labelledby="findings-title">
      <h2 id="findings-title">Verification findings <span class="muted">(${findings.length})</span></h2>
      ${findings.length ? html`<ul class="findings">${findings.map((f) => html`<li class="finding sev-border-${f.severity}" id="finding-${f.id}">${severityBadge(f.severity)} <span class="code">${f.code.replace(/_/g, ' ')}</span> ${f.message}${f.location ? findingPlace(f.location) : ''}</li>`)}</ul>` : html`<p class="muted">None.</p>`}
    </section>
    ${request.plan.unavailable.length ? html`<section class="card unavailable" aria-labelledby="na-title"><h2 id="na-title">Not checked</h2><ul>${request.plan.unavailable.map((u) => html`<li><strong>${u.type.replace(/_/g, ' ')}</strong> (${u.stepId})${u.code ? html` <code>${u.code}</code>` : ''}: ${u.reason}</li>`)}</ul></section>` : ''}
    <section class="card plan" aria-labelledby="plan-title"><h2 id="plan-title">Plan</h2>${planSections(request.plan.sections, ctx, findingsByRec)}</section>
    ${
      detail.diffToPrevious
        ? html`<section class="card diffs" aria-labelledby="diff-title"><h2 id="diff-title">Changes since revision ${item.revision - 1}</h2>
      ${request.reviewerComments.length ? html`<h3>Reviewer comments that led to this revision</h3>${request.reviewerComments.map((c, i) => html`<blockquote${request.reviewerComments.findIndex((o) => o.revision === c.revision) === i ? html` id="comment-r${c.revision}"` : ''}><p>${c.comments}</p><footer>— ${c.reviewer}, revision ${c.revision}, <time datetime="${c.at}">${c.at.slice(0, 16).replace('T', ' ')}</time></footer></blockquote>`)}` : ''}
      ${diffView(detail.diffToPrevious)}</section>`
        : ''
    }
    ${decision ? decisionView(decision) : mine ? decisionForms(item.caseId, item.revision, csrf, request.plan.sections) : ''}
  </div>
</div>
<section class="card" aria-labelledby="audit-title"><h2 id="audit-title">Audit trail</h2>${auditTable(input.audit)}</section>`,
    input.flash,
    meta,
  );
}
