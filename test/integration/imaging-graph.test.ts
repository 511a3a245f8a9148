/**
 * The clinical-case graph with the real imaging path: the synthetic pneumonia case, its
 * ImagingStudy carrying a study UID so the tool fetches the instance from a WADO-RS test server
 * (a DICOM file written with dcmjs), the imaging service with the committed model over a real
 * socket, and the real knowledge base. The draft must cite the model's finding with model name,
 * version, score, threshold and band; an image attached inline (DocumentReference) must work
 * the same way; and with the service down, the case must still reach review with imaging shown
 * as NOT CHECKED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelMeta } from '../../src/imaging/model.js';
import { KServeImagingClient } from '../../src/tools/imaging/client.js';
import { DicomwebClient } from '../../src/tools/imaging/dicomweb.js';
import { LocalKnowledgeBaseClient } from '../../src/tools/knowledge-base/client.js';
import { loadExampleCases, type ExampleCase } from '../helpers/cases.js';
import { runToReview } from '../helpers/graph-run.js';
import {
  makeDicom,
  makePng,
  MODEL_DIR,
  sampleImage,
  startDicomweb,
  startImagingService,
  stopImagingService,
  upscale,
  type DicomwebServer,
  type RunningService,
} from '../helpers/imaging.js';
import { openTestKb, type TestKb } from '../helpers/kb.js';

const base = loadExampleCases().find((e) => e.file === 'pneumonia-penicillin-allergy.json')!;
const STUDY = '2.25.1000000000000000000000000000000000';
const SERIES = '2.25.1000000000000000000000000000000001';
const INSTANCE = '2.25.1000000000000000000000000000000002';

/** The example case with a study instance UID on its ImagingStudy, so the tool can find it on the PACS. */
function withStudyUid(example: ExampleCase): ExampleCase {
  const copy = structuredClone(example);
  const study = copy.submission.bundle.entry.find((e) => e.resource.resourceType === 'ImagingStudy')!.resource;
  study.identifier = [{ system: 'urn:dicom:uid', value: `urn:oid:${STUDY}` }];
  copy.submission.caseId = `${example.submission.caseId}-pacs`;
  return copy;
}

/** The example case with the radiograph attached inline as a PNG instead of an ImagingStudy. */
function withInlineImage(example: ExampleCase, png: Uint8Array): ExampleCase {
  const copy = structuredClone(example);
  copy.submission.bundle.entry = copy.submission.bundle.entry.filter((e) => e.resource.resourceType !== 'ImagingStudy');
  copy.submission.bundle.entry.push({
    resource: {
      resourceType: 'DocumentReference',
      id: 'd-img',
      status: 'current',
      description: 'Chest radiograph (synthetic test image)',
      content: [{ attachment: { contentType: 'image/png', data: Buffer.from(png).toString('base64') } }],
    },
  });
  copy.submission.caseId = `${example.submission.caseId}-inline`;
  return copy;
}

let kb: TestKb;
let service: RunningService;
let pacs: DicomwebServer;
const image = sampleImage(5).pixels;

beforeAll(async () => {
  kb = await openTestKb('sqlite');
  service = await startImagingService(MODEL_DIR);
  pacs = await startDicomweb(
    new Map([
      [
        `${STUDY}/${SERIES}/${INSTANCE}`,
        makeDicom({
          rows: 224,
          cols: 224,
          values: upscale(image, 8),
          bitsAllocated: 8,
          uids: { study: STUDY, series: SERIES, instance: INSTANCE },
        }),
      ],
    ]),
  );
});
afterAll(async () => {
  await stopImagingService(service);
  await pacs?.app.close();
  await kb?.drop();
});

const imaging = (baseUrl: string) =>
  new KServeImagingClient({
    baseUrl,
    model: 'pneumonia-cnn',
    timeoutMs: 2000,
    retries: 1,
    backoffMs: 20,
    breaker: { failures: 5, halfOpenAfterMs: 1000 },
    maxImageBytes: 1e7,
    dicomweb: new DicomwebClient({ baseUrl: pacs.base, timeoutMs: 2000, maxBytes: 1e7 }),
  });

describe('clinical-case graph with the imaging service', () => {
  it('fetches the study from DICOMweb, runs the model, and cites its finding with model, version, score, threshold and band', async () => {
    const meta = await readModelMeta(MODEL_DIR);
    const { request, state } = await runToReview(withStudyUid(base), {
      knowledgeBase: new LocalKnowledgeBaseClient(kb.store),
      literature: null,
      imaging: imaging(service.base),
    });
    const step = Object.values(state.results).find((r) => r.type === 'imaging_analysis')!;
    expect(step.status).toBe('ok');
    expect(step.provenance.version).toBe(`pneumonia-cnn@${meta.version}`);
    const evidence = step.evidence[0]!;
    expect(evidence.id).toBe('img:img-1:pneumonia');
    expect(evidence.source).toBe(`pneumonia-cnn ${meta.version}`);
    expect(evidence.title).toMatch(
      new RegExp(
        `^pneumonia: (positive|negative|indeterminate) \\(score [01]\\.\\d\\d, threshold ${meta.threshold.toFixed(2)}, indeterminate ${meta.indeterminateBand[0]}–${meta.indeterminateBand[1]}\\)$`,
      ),
    );
    expect(evidence.detail).toMatch(
      /^Image preparation: dicom, 8-bit unsigned, 8-bit grey levels \(no window\), resized 224×224 → 28×28$/,
    );
    const rec = request.plan.sections.recommendations.find((r) => r.citations.includes('img:img-1:pneumonia'))!;
    expect(rec.text).toMatch(
      /^Imaging model result for img-1 \(pneumonia-cnn .+\): pneumonia: .+ Decision support only; the image must be read by a clinician\.$/,
    );
    expect(request.evidence.map((e) => e.id)).toContain('img:img-1:pneumonia');
    expect(request.plan.unavailable.filter((u) => u.type === 'imaging_analysis')).toEqual([]);
    expect(pacs.requests.at(-1)!.url).toBe(`/dicomweb/studies/${STUDY}/series/${SERIES}/instances/${INSTANCE}`);
    // The UIDs are in-process only: not in the view, not in the review request.
    expect(JSON.stringify(request)).not.toContain(STUDY);
    expect(JSON.stringify(state.view)).not.toContain(INSTANCE);
  });

  it('analyses an image attached inline to the case the same way', async () => {
    const { request, state } = await runToReview(withInlineImage(base, makePng(28, 28, image)), {
      knowledgeBase: new LocalKnowledgeBaseClient(kb.store),
      literature: null,
      imaging: imaging(service.base),
    });
    expect(state.view!.imaging).toEqual([
      {
        ref: 'img-1',
        modality: null,
        bodySite: null,
        description: 'Chest radiograph (synthetic test image)',
        instances: 1,
        daysBeforeCase: null,
      },
    ]);
    const step = Object.values(state.results).find((r) => r.type === 'imaging_analysis')!;
    expect(step.status).toBe('ok');
    expect(request.evidence.find((e) => e.id === 'img:img-1:pneumonia')).toBeTruthy();
    // The base64 image is not copied into the review request.
    expect(JSON.stringify(request)).not.toContain(
      Buffer.from(makePng(28, 28, image))
        .toString('base64')
        .slice(0, 200),
    );
  });

  it('says NOT CHECKED when the study has no reachable pixels, or the service is down, and still reaches review', async () => {
    // Without a study UID the tool cannot know which instance to fetch.
    const noUid = await runToReview(base, {
      knowledgeBase: new LocalKnowledgeBaseClient(kb.store),
      literature: null,
      imaging: imaging(service.base),
    });
    const why = noUid.request.plan.unavailable.find((u) => u.type === 'imaging_analysis')!;
    expect(why.reason).toMatch(/no study instance UID/);

    const down = await startImagingService(MODEL_DIR);
    const downBase = down.base;
    await stopImagingService(down);
    const { request } = await runToReview(withStudyUid(base), {
      knowledgeBase: new LocalKnowledgeBaseClient(kb.store),
      literature: null,
      imaging: imaging(downBase),
    });
    const u = request.plan.unavailable.find((x) => x.type === 'imaging_analysis')!;
    expect(u.reason).toMatch(/imaging service: .*(ECONNREFUSED|fetch failed)/);
    expect(
      request.plan.sections.recommendations.some((r) => r.text.startsWith('NOT CHECKED: Analyse imaging study img-1')),
    ).toBe(true);
    expect(request.findings.some((f) => f.code === 'tool_unavailable')).toBe(true);
    expect(request.allowedActions).toContain('approve');
  });
});
