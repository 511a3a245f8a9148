/**
 * Metrics shared by every process (API servers, case workers, delivery workers): counters and
 * fixed-bucket histograms kept in one Redis hash (`{<prefix>:metrics}`) with HINCRBY /
 * HINCRBYFLOAT, so `GET /metrics` on any API server reports the whole deployment and Prometheus
 * scrapes one endpoint. Queue depths are read from BullMQ at scrape time.
 *
 * Recording never throws: a metrics write that fails is dropped (metrics must not fail work).
 */
import type { Redis } from 'ioredis';
import { metricsKey } from '../infra/redis-keys.js';

const HUMAN_SECONDS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 28_800, 86_400];
const MACHINE_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface MetricDef {
  type: 'counter' | 'histogram';
  help: string;
  labels: readonly string[];
  buckets?: readonly number[];
}

/** Every shared metric: name → definition. */
export const METRICS = {
  co_review_wait_seconds: {
    type: 'histogram',
    help: 'Time from a revision entering the review queue to its first claim.',
    labels: [],
    buckets: HUMAN_SECONDS,
  },
  co_review_time_to_decision_seconds: {
    type: 'histogram',
    help: 'Time from a revision entering the review queue to the recorded decision.',
    labels: [],
    buckets: HUMAN_SECONDS,
  },
  co_review_decisions_total: { type: 'counter', help: 'Recorded review decisions by action.', labels: ['action'] },
  co_review_claims_total: { type: 'counter', help: 'Review claims by kind (next or specific).', labels: ['kind'] },
  co_review_leases_expired_total: {
    type: 'counter',
    help: 'Claims whose lease expired, returning the item to the queue.',
    labels: [],
  },
  co_tool_calls_total: {
    type: 'counter',
    help: 'Tool calls made by the case graph, by tool and outcome (ok or the failure code).',
    labels: ['tool', 'outcome'],
  },
  co_tool_latency_seconds: {
    type: 'histogram',
    help: 'Tool call latency, including retries.',
    labels: ['tool'],
    buckets: MACHINE_SECONDS,
  },
  co_cases_closed_total: {
    type: 'counter',
    help: 'Cases that reached a terminal state, by status.',
    labels: ['status'],
  },
  co_delivery_attempts_total: {
    type: 'counter',
    help: 'Delivery attempts by result (delivered, failed).',
    labels: ['result'],
  },
  co_delivery_failures_total: {
    type: 'counter',
    help: 'Failed delivery attempts by reason (http_4xx, http_5xx, network, timeout, forbidden_address, redirect, insecure_url, unsigned).',
    labels: ['reason'],
  },
  co_delivery_dead_letters_total: {
    type: 'counter',
    help: 'Deliveries moved to the dead-letter queue after their last attempt.',
    labels: [],
  },
  co_delivery_decision_to_delivered_seconds: {
    type: 'histogram',
    help: 'Time from the recorded decision to the delivered webhook (or API availability).',
    labels: [],
    buckets: MACHINE_SECONDS,
  },
} as const satisfies Record<string, MetricDef>;

export type MetricName = keyof typeof METRICS;
type Labels = Record<string, string>;

const labelKey = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]!.replace(/[|=,]/g, '_')}`)
    .join(',');

export class Metrics {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
  ) {
    this.key = metricsKey(keyPrefix);
  }

  inc(name: MetricName, labels: Labels = {}, by = 1): Promise<void> {
    return this.redis
      .hincrbyfloat(this.key, `${name}|${labelKey(labels)}`, by)
      .then(() => undefined)
      .catch(() => undefined);
  }

  observe(name: MetricName, value: number, labels: Labels = {}): Promise<void> {
    const def: MetricDef = METRICS[name];
    const base = `${name}|${labelKey(labels)}`;
    const bucket = def.buckets?.find((b) => value <= b);
    const pipeline = this.redis.pipeline();
    pipeline.hincrbyfloat(this.key, `${base}|sum`, value);
    pipeline.hincrby(this.key, `${base}|count`, 1);
    pipeline.hincrby(this.key, `${base}|le=${bucket ?? '+Inf'}`, 1);
    return pipeline
      .exec()
      .then(() => undefined)
      .catch(() => undefined);
  }

  /** Every stored value: field → number. */
  async snapshot(): Promise<Map<string, number>> {
    const raw = await this.redis.hgetall(this.key);
    return new Map(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  }

  async reset(): Promise<void> {
    await this.redis.del(this.key);
  }
}

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const renderLabels = (pairs: Array<[string, string]>) =>
  pairs.length ? `{${pairs.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}` : '';
const parseLabels = (s: string): Array<[string, string]> =>
  s ? s.split(',').map((p) => p.split('=') as [string, string]) : [];

export interface Gauge {
  name: string;
  help: string;
  samples: Array<{ labels: Record<string, string>; value: number }>;
}

/** The Prometheus text exposition (format 0.0.4) of the shared metrics plus gauges read at scrape time. */
export function renderPrometheus(snapshot: Map<string, number>, gauges: readonly Gauge[]): string {
  const lines: string[] = [];
  for (const g of gauges) {
    lines.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`);
    for (const s of g.samples) lines.push(`${g.name}${renderLabels(Object.entries(s.labels))} ${s.value}`);
  }
  for (const [name, def] of Object.entries(METRICS) as Array<[MetricName, MetricDef]>) {
    lines.push(`# HELP ${name} ${def.help}`, `# TYPE ${name} ${def.type}`);
    const series = new Map<string, Map<string, number>>();
    for (const [field, value] of snapshot) {
      const [metric, labels = '', part = ''] = field.split('|');
      if (metric !== name) continue;
      if (!series.has(labels)) series.set(labels, new Map());
      series.get(labels)!.set(part, value);
    }
    for (const [labels, parts] of series) {
      const pairs = parseLabels(labels);
      if (def.type === 'counter') {
        lines.push(`${name}${renderLabels(pairs)} ${parts.get('') ?? 0}`);
        continue;
      }
      let cumulative = 0;
      for (const b of def.buckets ?? []) {
        cumulative += parts.get(`le=${b}`) ?? 0;
        lines.push(`${name}_bucket${renderLabels([...pairs, ['le', String(b)]])} ${cumulative}`);
      }
      cumulative += parts.get('le=+Inf') ?? 0;
      lines.push(`${name}_bucket${renderLabels([...pairs, ['le', '+Inf']])} ${cumulative}`);
      lines.push(`${name}_sum${renderLabels(pairs)} ${parts.get('sum') ?? 0}`);
      lines.push(`${name}_count${renderLabels(pairs)} ${parts.get('count') ?? 0}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
