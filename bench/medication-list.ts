/** Shared by the knowledge-base and care-plan benchmarks. */
/** A 20-drug list an older patient with multimorbidity might plausibly have (names as records write them). */
export const TWENTY_DRUGS: Array<[string, number, string, number]> = [
  ['warfarin', 5, 'mg', 1],
  ['Zestril', 20, 'mg', 1],
  ['spironolactone', 25, 'mg', 1],
  ['metformin hydrochloride', 1000, 'mg', 2],
  ['atorvastatin', 40, 'mg', 1],
  ['amlodipine besylate', 10, 'mg', 1],
  ['furosemide', 40, 'mg', 1],
  ['omeprazole', 20, 'mg', 1],
  ['sertraline', 100, 'mg', 1],
  ['gabapentin', 300, 'mg', 3],
  ['levothyroxine', 100, 'mcg', 1],
  ['allopurinol', 300, 'mg', 1],
  ['paracetamol', 1, 'g', 4],
  ['ibuprofen', 400, 'mg', 3],
  ['clopidogrel', 75, 'mg', 1],
  ['tramadol', 50, 'mg', 4],
  ['digoxin', 125, 'mcg', 1],
  ['bisoprolol', 5, 'mg', 1],
  ['tamsulosin', 0.4, 'mg', 1],
  ['donepezil', 10, 'mg', 1],
];
