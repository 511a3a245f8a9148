/** LangChain tool wrapper: `imaging_analyse` returns the model's finding as JSON (model, version, score, threshold, band) or a coded error object. */
import { tool } from '@langchain/core/tools';
import { toolJson } from '../common.js';
import { ImagingInput, type ImagingClient } from './schema.js';

export function imagingTool(client: ImagingClient) {
  return tool(async (input) => toolJson((signal) => client.analyse(input, signal), AbortSignal.timeout(60_000)), {
    name: 'imaging_analyse',
    description:
      'Run the imaging model on one study (a chest X-ray: pneumonia vs normal). Returns the finding with model name and version, calibrated score, threshold and indeterminate band. Decision support only: a clinician must read the image. Cite as img:<studyRef>:<finding id>.',
    schema: ImagingInput,
  });
}
