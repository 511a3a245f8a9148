/** The model card of a trained model, written by the training script from its own figures. */
import type { ModelMeta } from './model.js';
import type { TrainingConfig, TrainingResult } from './train.js';

export interface ModelCardInput {
  meta: ModelMeta;
  config: TrainingConfig;
  metrics: {
    date: string;
    data: {
      file: string;
      sha256: string;
      train: { n: number; pneumonia: number };
      val: { n: number; pneumonia: number };
    };
    backend: string;
    trainingSeconds: number;
    bestEpoch: number;
    parameters: number;
    validation: TrainingResult['validation'];
  };
}

const f = (x: number, digits = 3) => x.toFixed(digits);

export function modelCard({ meta, config, metrics }: ModelCardInput): string {
  const v = metrics.validation;
  const m = v.atThreshold;
  return `# Model card: ${meta.name} ${meta.version}

**Intended use: decision support under human review. Not for diagnosis.** Every imaging finding
this model produces enters a care-plan draft that a clinician reviews and decides on; the
finding states the model, version, score, threshold and indeterminate band.

## Model

- Task: binary classification of a chest X-ray as **pneumonia** (positive) or **normal**.
- Architecture: a small CNN (${config.model.filters.join(' / ')} filters in three blocks of 3×3
  convolutions with batch normalisation and ReLU, 2×2 max pooling, global average pooling,
  dropout ${config.model.dropout}, one logit); ${metrics.parameters.toLocaleString('en')} parameters.
- Input: one grey-level image resized to ${meta.input.height}×${meta.input.width}, values in [0, 1]
  (0 = black), NHWC \`[N, ${meta.input.height}, ${meta.input.width}, 1]\`. DICOM input is windowed
  (VOI LUT window, else the full range after rescale) and MONOCHROME1 is inverted first.
- Output: the calibrated probability of pneumonia (Platt scaling fitted on the validation split:
  p = σ(${f(meta.calibration?.a ?? 1, 4)}·logit ${(meta.calibration?.b ?? 0) < 0 ? '−' : '+'} ${f(Math.abs(meta.calibration?.b ?? 0), 4)})).
- Decision: positive when p ≥ **${meta.threshold}**; **indeterminate** when
  ${meta.indeterminateBand[0]} ≤ p ≤ ${meta.indeterminateBand[1]}.
- Files: \`tfjs/\` (TF.js layers model, served by default), \`onnx/model.onnx\` (the same network,
  batch norm folded, calibration and sigmoid included; opset 13) for onnxruntime, Triton or KServe.
- Trained with TensorFlow.js ${metrics.backend} backend on CPU in ${Math.round(metrics.trainingSeconds / 60)} min, ${metrics.date.slice(0, 10)}.

## Data

- PneumoniaMNIST from MedMNIST v2 (Yang et al., *Scientific Data* 2023), derived from Kermany et
  al. 2018 (*Cell*); both CC BY 4.0. Paediatric chest X-rays (patients aged 1–5, one centre in
  Guangzhou), downsampled to 28×28.
- This copy: the balanced undersample of aksufatih/snn-medmnist (\`${metrics.data.file}\`, sha256
  \`${metrics.data.sha256.slice(0, 16)}…\`), re-split; **not** MedMNIST's official split.
- Train: ${metrics.data.train.n} images (${metrics.data.train.pneumonia} pneumonia). Validation:
  ${metrics.data.val.n} images (${metrics.data.val.pneumonia} pneumonia). A test split of 468 images
  is held out from the developers and was never seen.

## Training

Adam, learning rate ${config.learningRate} with cosine decay to ×${config.minLearningRateFactor},
batch ${config.batchSize}, ${config.epochs} epochs, L2 ${config.model.l2}, seed ${config.model.seed}.
Augmentation: rotation ±${config.augment.rotateDegrees}°, scale ±${config.augment.scale * 100}%,
shift ±${config.augment.shiftPixels} px, ${config.augment.flip ? 'horizontal flip, ' : ''}brightness
±${config.augment.brightness}, contrast ±${config.augment.contrast * 100}%. The epoch with the best
validation AUC was kept (epoch ${metrics.bestEpoch}).

## Validation metrics

| metric | value |
| --- | --- |
| ROC AUC | **${f(v.auc, 4)}** |
| accuracy at p ≥ ${meta.threshold} | ${f(m.accuracy, 4)} |
| sensitivity | ${f(m.sensitivity, 4)} |
| specificity | ${f(m.specificity, 4)} |
| confusion (tp / fp / tn / fn) | ${m.confusion.tp} / ${m.confusion.fp} / ${m.confusion.tn} / ${m.confusion.fn} |
| expected calibration error (10 bins), before / after Platt | ${f(v.calibrationError.before)} / ${f(v.calibrationError.after)} |
| share of images in the indeterminate band | ${f(v.indeterminate.fraction)} |
| accuracy outside the band | ${f(v.indeterminate.accuracyOutsideBand, 4)} |

The validation split chose the epoch and fitted the calibration, so these figures are
optimistic. Score any held-out split with \`npm run eval:imaging -- --data PATH.npz\`. For
reference, MedMNIST v2 reports ResNet-18 (28) at AUC 0.944 / ACC 0.854 on the official
PneumoniaMNIST test split; that split and ours differ, so the comparison is indicative only.

## Limits

- 28×28 pixels: fine detail is gone; the model sees only coarse opacity patterns.
- Paediatric, single-centre, one country: performance on adults, other equipment or other
  populations is unknown and likely worse.
- Two classes only: no bacterial/viral distinction, no other findings (effusion, pneumothorax,
  tubes and lines, masses). An image that is not a frontal chest X-ray still gets a score.
- Balanced training data: the probability assumes ~50 % prevalence; in a population with other
  prevalence, the calibration shifts.
- Not a medical device. Not validated prospectively. A site deploying it must validate it on
  its own data, or deploy its own validated model (the service loads ONNX models).
`;
}
