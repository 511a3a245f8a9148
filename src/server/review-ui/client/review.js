// The review UI's only script (served at /review/static/review.js; no inline script, strict CSP).
// - renews the lease on the item you hold while the page is open, and says so clearly when the
//   lease is lost (actions are then disabled: a decision on an expired lease would be refused);
// - after a decision, follows the case: links the next revision when one is queued, shows delivery;
// - signs out after SESSION_IDLE_SECONDS without activity, warning first with a "Stay signed in"
//   button; typing, clicking or scrolling in the page counts as activity (a keep-alive at most once
//   a minute), its own background requests (lease renewal, polling, the queue refresh) do not;
// - opens the disclosure holding a cited case row; refreshes the queue; keyboard shortcuts (n claim next, c claim, a approve, r request
//   changes, x reject, e edit) when the focus is not in a text field.
'use strict';

(function () {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? null;
  const csrf = meta('csrf-token');
  const caseId = meta('case-id');
  const revision = meta('revision');

  function banner(text) {
    const el = document.getElementById('lease-banner');
    if (!el) return;
    el.textContent = text;
    el.hidden = false;
  }

  function disableDecisions() {
    for (const b of document.querySelectorAll('button.needs-lease')) {
      b.disabled = true;
      b.setAttribute('aria-disabled', 'true');
    }
  }

  // Requests the page makes on its own carry x-co-background: they do not keep the session alive.
  const BACKGROUND = { 'x-co-background': '1' };

  async function post(url) {
    return fetch(url, {
      method: 'POST',
      headers: { 'x-csrf-token': csrf ?? '', accept: 'application/json', ...BACKGROUND },
      credentials: 'same-origin',
    });
  }

  async function getJson(url, background = true) {
    const res = await fetch(url, {
      headers: { accept: 'application/json', ...(background ? BACKGROUND : {}) },
      credentials: 'same-origin',
    });
    return res.ok ? res.json() : null;
  }

  // Automatic sign-out after inactivity, with a warning first.
  const idleSeconds = Number(meta('session-idle-seconds'));
  const idleMs = Number(meta('session-idle-ms'));
  const idleBanner = document.getElementById('idle-banner');
  if (idleBanner && idleSeconds > 0 && Number.isFinite(idleMs)) {
    // Relative to this page's clock: the server said how much was left when it rendered the page.
    let end = Date.now() + idleMs;
    let lastPing = Date.now();
    const warnMs = Math.min(120_000, (idleSeconds * 1000) / 4);
    const text = document.getElementById('idle-text');
    const keepAlive = async () => {
      lastPing = Date.now();
      const session = await getJson('/v1/auth/session', false).catch(() => null);
      if (session?.idleExpiresAt) {
        end = Date.now() + idleSeconds * 1000;
        idleBanner.hidden = true;
      }
    };
    for (const type of ['keydown', 'pointerdown', 'input', 'scroll']) {
      document.addEventListener(
        type,
        () => {
          if (Date.now() - lastPing > 60_000 && end - Date.now() > 0) keepAlive();
        },
        { passive: true, capture: true },
      );
    }
    document.getElementById('stay-signed-in')?.addEventListener('click', keepAlive);
    const tick = () => {
      const left = end - Date.now();
      if (left <= 0) {
        const minutes = Math.round(idleSeconds / 60);
        const info = `You were signed out after ${minutes} minute${minutes === 1 ? '' : 's'} without activity. Anything not saved was not recorded.`;
        window.location.assign(
          `/review/login?info=${encodeURIComponent(info)}&next=${encodeURIComponent(window.location.pathname)}`,
        );
        return;
      }
      if (left <= warnMs) {
        if (text) text.textContent = `You will be signed out in ${Math.ceil(left / 1000)} s because of inactivity.`;
        idleBanner.hidden = false;
      }
      setTimeout(tick, 1000);
    };
    setTimeout(tick, 1000);
  }

  // Lease renewal: every third of the lease, while the page is open.
  const leaseMs = Number(meta('lease-ms'));
  if (caseId && revision && leaseMs > 0) {
    const url = `/v1/reviews/${encodeURIComponent(caseId)}/revisions/${revision}/lease`;
    let lost = false;
    const renew = async () => {
      if (lost) return;
      try {
        const res = await post(url);
        if (res.ok) {
          const claim = await res.json();
          const t = document.querySelector('#lease time');
          if (t) {
            t.setAttribute('datetime', claim.leaseExpiresAt);
            t.textContent = claim.leaseExpiresAt.slice(11, 19);
          }
          return;
        }
        const problem = await res.json().catch(() => ({}));
        if (res.status === 409 || res.status === 401) {
          lost = true;
          disableDecisions();
          banner(
            `Your claim on this case was lost: ${problem.detail ?? problem.title ?? `HTTP ${res.status}`}. Your decision was not recorded. Reload the page to claim it again.`,
          );
        }
      } catch {
        // A network blip: the next renewal tries again (the lease outlives two missed renewals).
      }
    };
    setInterval(renew, Math.max(2000, Math.floor(leaseMs / 3)));
  }

  // After a decision: follow the case until a newer revision is queued or the result is delivered.
  const status = document.querySelector('[data-poll]');
  if (status && caseId && revision) {
    const shown = Number(revision);
    let linked = false;
    const poll = async () => {
      const data = await getJson(`/v1/reviews/${encodeURIComponent(caseId)}`).catch(() => null);
      const c = data?.case;
      if (c) {
        const d = c.delivery;
        status.textContent = `Case status: ${c.status}${d ? ` · delivery: ${d.status} (${d.channel})${d.deliveredAt ? ` at ${d.deliveredAt.replace('T', ' ').slice(0, 19)}` : ''}` : ''}`;
        const newer = Math.max(
          0,
          ...(data.audit ?? [])
            .filter((e) => e.event === 'review_enqueued' && e.revision > shown)
            .map((e) => e.revision),
        );
        if (newer && !linked) {
          linked = true;
          const target = document.getElementById('revision-status') ?? status;
          target.textContent = '';
          const a = document.createElement('a');
          a.href = `/review/cases/${encodeURIComponent(caseId)}/${newer}`;
          a.textContent = `Revision ${newer} is ready for review: open it`;
          a.id = 'revised-link';
          target.appendChild(a);
          target.setAttribute('role', 'status');
        }
        if (d?.status === 'delivered' || d?.status === 'failed') {
          status.setAttribute('role', 'status');
          status.classList.add(`delivery-${d.status}`);
          return;
        }
      }
      setTimeout(poll, 1000);
    };
    setTimeout(poll, 500);
  }

  // Keep the queue fresh.
  const refresh = document.querySelector('[data-autorefresh]');
  // The refresh is not the person's activity: refresh=auto tells the server so.
  if (refresh)
    setTimeout(
      () => window.location.replace(`${window.location.pathname}?refresh=auto`),
      Number(refresh.getAttribute('data-autorefresh')) || 15000,
    );

  // Keyboard shortcuts.
  document.addEventListener('keydown', (event) => {
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (
      target instanceof HTMLElement &&
      (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
    )
      return;
    const button = document.querySelector(`[data-shortcut="${event.key}"]`);
    if (button instanceof HTMLElement && !button.hasAttribute('disabled')) {
      event.preventDefault();
      if (button.tagName === 'SUMMARY') {
        button.parentElement.open = true;
        button.parentElement.querySelector('textarea')?.focus();
      } else button.focus();
      return;
    }
    const field = document.querySelector(`[data-shortcut-focus="${event.key}"]`);
    if (field instanceof HTMLElement) {
      event.preventDefault();
      field.focus();
    }
  });

  // A citation of the case record can point into a closed disclosure (other tests, resolved
  // problems): open it so the cited row is shown.
  function revealTarget() {
    const id = decodeURIComponent(window.location.hash.slice(1));
    const el = id ? document.getElementById(id) : null;
    if (!el) return;
    let closed = false;
    for (let d = el.closest('details'); d; d = d.parentElement?.closest('details') ?? null) {
      if (!d.open) closed = true;
      d.open = true;
    }
    if (closed) el.scrollIntoView({ block: 'center' });
  }
  window.addEventListener('hashchange', revealTarget);
  revealTarget();

  // The literature panel: search /v1/literature/search and attach a record to a statement of the
  // edit (its "Also cite" field). Results are built with DOM text nodes, never as HTML.
  const panel = document.getElementById('lit-panel');
  if (panel) {
    const levels = JSON.parse(panel.getAttribute('data-levels') || '{}');
    const status = document.getElementById('lit-status');
    const list = document.getElementById('lit-results');
    const el = (tag, props = {}, ...children) => {
      const node = document.createElement(tag);
      Object.assign(node, props);
      for (const c of children) node.append(c);
      return node;
    };
    const attach = (pmid) => {
      const target = document.getElementById(document.getElementById('lit-target').value);
      if (!target) return;
      const ids = target.value.split(/[\s,;]+/).filter(Boolean);
      if (!ids.includes(pmid)) ids.push(pmid);
      target.value = ids.join(', ');
      const editor = document.getElementById('editor');
      if (editor) editor.open = true;
      status.textContent = `PMID ${pmid} will be cited by ${target.dataset.statement}; it is fetched from the literature source when you save the edit.`;
    };
    const render = (result) => {
      list.replaceChildren();
      for (const c of result.citations) {
        const where = [c.journal, c.year ? `(${c.year})` : ''].filter(Boolean).join(' ');
        const head = el(
          'div',
          {},
          el('a', {
            href: `https://pubmed.ncbi.nlm.nih.gov/${c.pmid}/`,
            target: '_blank',
            rel: 'noopener noreferrer',
            textContent: `PMID ${c.pmid}`,
          }),
          ' ',
          el('span', {
            className: `level level-${c.evidenceLevel}`,
            textContent: levels[c.evidenceLevel] ?? c.evidenceLevel,
          }),
          ' ',
          c.title || el('span', { className: 'muted', textContent: '(no title in the source)' }),
          el('span', { className: 'muted', textContent: where ? ` — ${where}` : '' }),
        );
        const item = el('li', { className: 'lit-result' }, head);
        if (c.quote)
          item.append(
            el(
              'blockquote',
              { className: 'quote' },
              el('span', { className: 'quote-section', textContent: c.quote.section ?? 'abstract' }),
              ' ',
              el('mark', { textContent: c.quote.text }),
            ),
          );
        const button = el('button', { type: 'button', className: 'lit-attach', textContent: 'Attach' });
        button.dataset.pmid = c.pmid;
        button.addEventListener('click', () => attach(c.pmid));
        item.append(button);
        list.append(item);
      }
    };
    const search = async () => {
      const terms = document
        .getElementById('lit-terms')
        .value.split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      if (!terms.length) {
        status.textContent = 'Type at least one term.';
        return;
      }
      const since = document.getElementById('lit-since').value;
      status.textContent = 'Searching…';
      list.replaceChildren();
      try {
        const res = await fetch('/v1/literature/search', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf ?? '' },
          credentials: 'same-origin',
          body: JSON.stringify({
            intent: 'reviewer search from the review page',
            terms,
            humansOnly: document.getElementById('lit-humans').checked,
            sinceYears: since ? Number(since) : null,
            topK: 10,
          }),
        });
        const body = await res.json().catch(() => ({}));
        if (!res.ok) {
          status.textContent = `The search failed: ${body.detail ?? body.title ?? `HTTP ${res.status}`}.`;
          return;
        }
        render(body);
        status.textContent = body.citations.length
          ? `${body.citations.length} record${body.citations.length === 1 ? '' : 's'} from ${body.source ?? 'the literature source'} (query: ${body.query}), strongest evidence first.`
          : `No record found (query: ${body.query}).`;
      } catch {
        status.textContent = 'The search could not reach the server; try again.';
      }
    };
    document.getElementById('lit-search').addEventListener('click', search);
    document.getElementById('lit-terms').addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        void search();
      }
    });
  }

  // Confirm destructive actions.
  for (const form of document.querySelectorAll('form')) {
    const action = form.querySelector('input[name="action"]')?.value;
    if (action === 'reject')
      form.addEventListener('submit', (e) => {
        if (!window.confirm('Reject this plan? The case closes.')) e.preventDefault();
      });
  }
})();
