/**
 * Binary classification metrics: ROC AUC (Mann–Whitney U with tied scores counted as half),
 * and accuracy, sensitivity and specificity at a threshold. Labels are 0/1; 1 = positive.
 */

export interface BinaryMetrics {
  n: number;
  positives: number;
  negatives: number;
  auc: number;
  threshold: number;
  accuracy: number;
  /** True-positive rate (recall of positives). */
  sensitivity: number;
  /** True-negative rate. */
  specificity: number;
  confusion: { tp: number; fp: number; tn: number; fn: number };
}

/** ROC AUC from average ranks. Throws when one class is absent (AUC is undefined then). */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (n !== labels.length) throw new Error(`rocAuc: ${n} scores for ${labels.length} labels`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = rank;
    i = j + 1;
  }
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] === 1) {
      pos++;
      rankSum += ranks[i]!;
    }
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) throw new Error('rocAuc: both classes must be present');
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Confusion counts and rates when `score >= threshold` predicts positive. */
export function binaryMetrics(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number): BinaryMetrics {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const predicted = scores[i]! >= threshold;
    if (labels[i] === 1) {
      if (predicted) tp++;
      else fn++;
    } else if (predicted) fp++;
    else tn++;
  }
  const n = scores.length;
  return {
    n,
    positives: tp + fn,
    negatives: tn + fp,
    auc: rocAuc(scores, labels),
    threshold,
    accuracy: (tp + tn) / n,
    sensitivity: tp + fn ? tp / (tp + fn) : 0,
    specificity: tn + fp ? tn / (tn + fp) : 0,
    confusion: { tp, fp, tn, fn },
  };
}

/** The threshold maximising Youden's J (sensitivity + specificity − 1); ties go to the one nearest 0.5. */
export function youdenThreshold(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const candidates = [...new Set(Array.from(scores))].sort((a, b) => a - b);
  let best = 0.5;
  let bestJ = -Infinity;
  for (const t of candidates) {
    const m = binaryMetrics(scores, labels, t);
    const j = m.sensitivity + m.specificity - 1;
    if (j > bestJ + 1e-12 || (Math.abs(j - bestJ) <= 1e-12 && Math.abs(t - 0.5) < Math.abs(best - 0.5))) {
      best = t;
      bestJ = j;
    }
  }
  return best;
}

export const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Stable log(1 + e^x). */
const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/**
 * Platt scaling: fit p = σ(a·z + b) to labels, where z are the model's logits, by Newton's
 * method with backtracking line search and Platt's smoothed targets ((N₊+1)/(N₊+2) and
 * 1/(N₋+2)), following Lin, Lin & Weng (2007), "A note on Platt's probabilistic outputs".
 */
export function plattScaling(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  iterations = 100,
): { a: number; b: number } {
  const n = logits.length;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] === 1 ? 1 : 0;
  const hi = (positives + 1) / (positives + 2);
  const lo = 1 / (n - positives + 2);
  const target = (i: number) => (labels[i] === 1 ? hi : lo);
  // Negative log-likelihood of σ(a·z + b) against the smoothed targets.
  const loss = (a: number, b: number) => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      const s = a * logits[i]! + b;
      f += softplus(s) - target(i) * s;
    }
    return f;
  };
  let a = 1;
  let b = 0;
  let f = loss(a, b);
  for (let it = 0; it < iterations; it++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-12;
    let hab = 0;
    let hbb = 1e-12;
    for (let i = 0; i < n; i++) {
      const z = logits[i]!;
      const p = sigmoid(a * z + b);
      const r = p - target(i);
      const w = p * (1 - p);
      ga += r * z;
      gb += r;
      haa += w * z * z;
      hab += w * z;
      hbb += w;
    }
    if (Math.abs(ga) < 1e-7 && Math.abs(gb) < 1e-7) break;
    const det = haa * hbb - hab * hab;
    const da = det > 0 ? -(hbb * ga - hab * gb) / det : -ga;
    const db = det > 0 ? -(haa * gb - hab * ga) / det : -gb;
    const slope = ga * da + gb * db;
    let step = 1;
    let improved = false;
    while (step > 1e-10) {
      const fa = loss(a + step * da, b + step * db);
      if (fa <= f + 1e-4 * step * slope) {
        a += step * da;
        b += step * db;
        f = fa;
        improved = true;
        break;
      }
      step /= 2;
    }
    if (!improved) break;
  }
  return { a, b };
}

/** Expected calibration error over `bins` equal-width probability bins. */
export function expectedCalibrationError(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  bins = 10,
): number {
  const count = new Float64Array(bins);
  const conf = new Float64Array(bins);
  const acc = new Float64Array(bins);
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!;
    const k = Math.min(bins - 1, Math.floor(p * bins));
    count[k]!++;
    conf[k]! += p;
    acc[k]! += labels[i]!;
  }
  let ece = 0;
  for (let k = 0; k < bins; k++)
    if (count[k]) ece += (count[k]! / probabilities.length) * Math.abs(acc[k]! / count[k]! - conf[k]! / count[k]!);
  return ece;
}
