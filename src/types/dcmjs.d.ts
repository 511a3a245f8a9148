// The part of dcmjs (https://github.com/dcmjs-org/dcmjs) this project uses; dcmjs ships no types.
declare module 'dcmjs' {
  interface DicomElement {
    vr: string;
    Value?: unknown[];
    InlineBinary?: string;
  }
  type DenaturalizedDataset = Record<string, DicomElement>;

  class DicomDict {
    constructor(meta: DenaturalizedDataset);
    meta: DenaturalizedDataset;
    dict: DenaturalizedDataset;
    write(options?: { allowInvalidVRLength?: boolean }): ArrayBuffer;
  }

  const dcmjs: {
    data: {
      DicomDict: typeof DicomDict;
      DicomMessage: {
        readFile(
          buffer: ArrayBuffer,
          options?: {
            ignoreErrors?: boolean;
            untilTag?: string | null;
            includeUntilTagValue?: boolean;
            noCopy?: boolean;
            forceStoreRaw?: boolean;
          },
        ): DicomDict;
      };
      DicomMetaDictionary: {
        naturalizeDataset(dataset: DenaturalizedDataset): Record<string, unknown>;
        denaturalizeDataset(dataset: Record<string, unknown>): DenaturalizedDataset;
        uid(): string;
      };
    };
  };
  export default dcmjs;
}
