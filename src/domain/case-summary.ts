/**
 * Counts of what a case bundle holds, for status views and logs. Counts are not PHI.
 * (The full clinical normaliser with the PHI-minimised view is part of the case graph.)
 */
import type { CaseSubmission } from './case.js';
import type { z } from 'zod';
import type { CaseSummaryCounts } from './case.js';

const ACTIVE_MED_STATUSES = new Set(['active', 'on-hold', 'intended', 'unknown']);

export function summariseCase(submission: CaseSubmission): z.infer<typeof CaseSummaryCounts> {
  const counts = {
    conditions: 0,
    medications: 0,
    allergies: 0,
    observations: 0,
    imagingStudies: 0,
    notes: submission.notes?.length ?? 0,
  };
  for (const { resource } of submission.bundle.entry) {
    switch (resource.resourceType) {
      case 'Condition':
        counts.conditions += 1;
        break;
      case 'MedicationRequest':
      case 'MedicationStatement':
        if ('status' in resource && typeof resource.status === 'string' && ACTIVE_MED_STATUSES.has(resource.status))
          counts.medications += 1;
        break;
      case 'AllergyIntolerance':
        counts.allergies += 1;
        break;
      case 'Observation':
        counts.observations += 1;
        break;
      case 'ImagingStudy':
        counts.imagingStudies += 1;
        break;
      case 'DocumentReference':
        counts.notes += 1;
        break;
      default:
        break;
    }
  }
  return counts;
}
