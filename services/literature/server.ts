/**
 * The local literature service: the E-utilities subset the client uses, over a local corpus.
 *
 *   GET|POST /entrez/eutils/esearch.fcgi  db=pubmed, term, retstart, retmax (≤ 10000), retmode=xml|json
 *   GET|POST /entrez/eutils/efetch.fcgi   db=pubmed, id=<comma-separated PMIDs> (≤ 10000), retmode=xml
 *   GET      /healthz                     corpus size and index fingerprint
 *
 * Answers follow NCBI's formats (eSearchResult XML, esearchresult JSON, PubmedArticleSet), so
 * pointing the client's base URL here instead of NCBI is the only change. Unknown ids are left
 * out of efetch answers, as NCBI does; nothing is ever made up.
 */
import { addHsts, httpsOption, type TlsMaterial } from '../../src/infra/tls.js';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { QuerySyntaxError } from '../../src/tools/literature/query.js';
import { toEsearchXml, toPubmedXml } from '../../src/tools/literature/pubmed-xml.js';
import type { LiteratureStore } from './store.js';

const Esearch = z.object({
  db: z.literal('pubmed', { message: 'only db=pubmed is served' }),
  term: z.string().trim().min(1, 'term is required').max(4000),
  retstart: z.coerce.number().int().min(0).default(0),
  retmax: z.coerce.number().int().min(0).max(10_000).default(20),
  retmode: z.enum(['xml', 'json']).default('xml'),
  sort: z.string().optional(),
});
const Efetch = z.object({
  db: z.literal('pubmed', { message: 'only db=pubmed is served' }),
  id: z
    .string()
    .trim()
    .min(1, 'id is required')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^\d{1,9}$/, 'ids are PMIDs (digits)')).max(10_000)),
  retmode: z.enum(['xml']).default('xml'),
  rettype: z.string().optional(),
});

const paramsOf = (request: FastifyRequest) => ({
  ...(request.query as Record<string, unknown>),
  ...(typeof request.body === 'object' && request.body ? (request.body as Record<string, unknown>) : {}),
});

function fail(reply: FastifyReply, json: boolean, message: string) {
  return json
    ? reply
        .status(400)
        .type('application/json')
        .send({ esearchresult: { ERROR: message } })
    : reply
        .status(400)
        .type('text/xml')
        .send(
          `<?xml version="1.0" encoding="UTF-8" ?>\n<eSearchResult><ERROR>${message.replace(/[<&>]/g, ' ')}</ERROR></eSearchResult>\n`,
        );
}

/** `tls`: serve HTTPS with this certificate and key, with HSTS (`loadTls(config)`); absent: plain HTTP. */
export function buildLiteratureService(index: LiteratureStore, tls?: TlsMaterial | null): FastifyInstance {
  const app = Fastify({ ...httpsOption(tls), logger: false });
  addHsts(app, tls);
  // NCBI accepts POSTed forms for long id lists; so does this service.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );

  const esearch = async (request: FastifyRequest, reply: FastifyReply) => {
    const raw = paramsOf(request);
    const p = Esearch.safeParse(raw);
    const json = raw.retmode === 'json';
    if (!p.success) return fail(reply, json, p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    let found;
    try {
      found = await index.find(p.data.term, { retstart: p.data.retstart, retmax: p.data.retmax });
    } catch (err) {
      if (err instanceof QuerySyntaxError) return fail(reply, json, `query syntax: ${err.message}`);
      throw err;
    }
    if (p.data.retmode === 'json') {
      return reply.type('application/json').send({
        header: { type: 'esearch', version: '0.3' },
        esearchresult: {
          count: String(found.count),
          retmax: String(found.ids.length),
          retstart: String(p.data.retstart),
          idlist: found.ids,
          querytranslation: p.data.term,
        },
      });
    }
    return reply.type('text/xml').send(
      toEsearchXml({
        count: found.count,
        ids: found.ids,
        queryTranslation: p.data.term,
        retmax: found.ids.length,
        retstart: p.data.retstart,
      }),
    );
  };

  const efetch = async (request: FastifyRequest, reply: FastifyReply) => {
    const p = Efetch.safeParse(paramsOf(request));
    if (!p.success)
      return reply
        .status(400)
        .type('text/xml')
        .send(
          `<?xml version="1.0" encoding="UTF-8" ?>\n<eFetchResult><ERROR>${p.error.issues.map((i) => i.message).join('; ')}</ERROR></eFetchResult>\n`,
        );
    return reply.type('text/xml').send(toPubmedXml(await index.fetch(p.data.id)));
  };

  for (const method of ['GET', 'POST'] as const) {
    app.route({ method, url: '/entrez/eutils/esearch.fcgi', handler: esearch });
    app.route({ method, url: '/entrez/eutils/efetch.fcgi', handler: efetch });
  }
  app.get('/healthz', () => ({ status: 'ok', records: index.size, index: index.fingerprint, backend: index.backend }));
  return app;
}
