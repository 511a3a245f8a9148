/**
 * 简体中文患者说明（Simplified Chinese patient wording）。句子简短、用词日常；说明调整的好处与风险，
 * 如临床医生当面解释。检查项目用通俗说法（参照 MedlinePlus 的检查说明，
 * https://medlineplus.gov/lab-tests/），其他检查保留知识库中的名称。
 */
import type { ChangeReason, NewDose, PatientPhrases } from './types.js';

const or = (xs: string[]) => xs.join('或');
const and = (xs: string[]) => xs.join('、');

function why(reason: ChangeReason, drug: string, other: string | null): string {
  switch (reason) {
    case 'allergy':
      return `您的记录显示您有过敏史，因此${drug}对您不安全。`;
    case 'interaction':
      return other ? `${drug}和${other}同时服用时会相互影响。` : `${drug}会影响您正在服用的另一种药物。`;
    case 'kidney':
      return `您最近的肾功能检查显示肾脏功能下降，所以现在不宜使用${drug}。`;
    case 'condition':
      return `${drug}不适合您目前的某一种健康状况。`;
    case 'age':
      return `对于65岁及以上的人，${drug}通常不是最好的选择。`;
    case 'dose':
      return `${drug}目前的剂量高于通常的最高剂量。`;
    default:
      return `${drug}需要再评估一下。`;
  }
}

const n = (x: number) => String(Math.round(x * 100) / 100);
const PER: Record<NewDose['per'], string> = { dose: '每次', day: '每日', week: '每周' };

function doseText(d: NewDose): string {
  const max = d.max !== null ? `${PER[d.per]}最多${n(d.max)} ${d.unit}` : '';
  if (d.strength !== null && d.timesPerDay !== null)
    return `每次${n(d.strength)} ${d.unit}，每日${n(d.timesPerDay)}次${max ? `（${max}）` : ''}`;
  return max;
}

const TESTS: Array<[RegExp, string]> = [
  [/^INR$/i, '凝血功能血液检查（INR）'],
  [/potassium/i, '血钾检查'],
  [/creatinine|egfr|glomerular|renal function/i, '肾功能血液检查'],
  [/a1c|glycated/i, '血糖检查（糖化血红蛋白）'],
  [/glucose/i, '血糖检查'],
  [/haemoglobin|hemoglobin|blood count/i, '血常规检查'],
  [/lithium/i, '血锂浓度检查'],
  [/digoxin/i, '地高辛血药浓度检查'],
  [/tsh|thyroid/i, '甲状腺功能血液检查'],
  [/liver|alt\b|alanine/i, '肝功能血液检查'],
  [/sodium/i, '血钠检查'],
  [/blood pressure/i, '血压'],
];

export const zhCN: PatientPhrases = {
  switchDrug: ({ drug, alternatives, reason, other }) =>
    `${why(reason, drug, other)}我们建议改用${or(alternatives)}。它们的作用相同，并且已经对照您正在服用的其他药物做过检查。` +
    `您的医疗团队会和您一起决定。调整后，如果您发现任何新的不适或感觉不舒服，请告诉他们。`,
  reviewDrug: ({ drug, reason, other }) =>
    `${why(reason, drug, other)}在继续服用之前，您的医疗团队会和您商量最合适的方案。`,
  lowerDose: ({ drug, dose, kidney }) =>
    `${kidney ? '您最近的肾功能检查显示肾脏功能下降。' : `${drug}目前的剂量高于通常的最高剂量。`}` +
    `${drug}用较低的剂量对您更安全：${doseText(dose)}。它仍然治疗同样的问题。如果感觉不舒服，请告诉您的医疗团队。`,
  stopDuplicate: ({ stop, keep }) =>
    `您有两种药含有相同的成分，同时服用可能导致用量过多。请停用${stop}，继续按原来的方法服用${keep}。`,
  tests: ({ tests }) => `您需要做以下检查：${and(tests)}。这些检查可以了解药物的效果，并保障您的安全。`,
  testName: (name) => TESTS.find(([re]) => re.test(name))?.[1] ?? name,
  closing: () => '如有任何不清楚的地方，请随时问我们；下次就诊时请带上您正在服用的所有药物。',
};
