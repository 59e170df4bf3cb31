import type { PoolMetricsReported } from '@flotilla/contracts';
import { Gauge, type Logger, type Registry } from '@flotilla/observability';
import type { EventPublisher } from '@flotilla/messaging';
import { v7 as uuidv7 } from 'uuid';
import { processShares, summarizeWindow } from './domain/pool-window';
import type { AgentPools } from './agent-pools';

export interface PoolMetricsReporterOptions {
  readonly pools: AgentPools;
  readonly instanceId: string;
  readonly intervalMs: number;
  readonly publisher: EventPublisher;
  /** Physical topic of PoolMetricsReported. */
  readonly topic: string;
  /** Physical dispatch topic of an agent type. */
  readonly dispatchTopic: (agentType: string) => string;
  /** Dispatches of a topic not taken yet by this instance. */
  readonly notTaken: (topic: string) => Promise<number>;
  readonly metrics: Registry;
  readonly logger: Logger;
}

/**
 * Every interval, one PoolMetricsReported per agent type of this instance, for the scaler and the
 * optimizer, and the same figures as Prometheus gauges. Published directly, not through the outbox:
 * a report is an observation, and the next one supersedes a lost one.
 */
export class PoolMetricsReporter {
  private timer: NodeJS.Timeout | null = null;
  private reporting: Promise<void> = Promise.resolve();
  private cpuAt = process.cpuUsage();
  private cpuSince = Date.now();
  private readonly gauges: Record<'backlog' | 'utilization' | 'arrival' | 'completion' | 'errors' | 'cpu' | 'rss', Gauge>;
  private readonly latency: Gauge;

  constructor(private readonly options: PoolMetricsReporterOptions) {
    const registers = [options.metrics];
    const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ['agent_type'], registers });
    const { pools } = options;
    // Live figures, read at scrape time.
    new Gauge({ name: 'agent_task_in_flight', help: 'Attempts running now, by agent type', labelNames: ['agent_type'], registers, collect() { for (const t of pools.agentTypes) this.set({ agent_type: t }, pools.snapshot(t).inFlight); } });
    new Gauge({ name: 'agent_task_queue_size', help: 'Dispatches taken and waiting for a slot, by agent type', labelNames: ['agent_type'], registers, collect() { for (const t of pools.agentTypes) this.set({ agent_type: t }, pools.snapshot(t).queued); } });
    new Gauge({ name: 'agent_pool_concurrency', help: 'Task slots (bulkhead limit) of the pool on this instance', labelNames: ['agent_type'], registers, collect() { for (const t of pools.agentTypes) this.set({ agent_type: t }, pools.snapshot(t).concurrency); } });
    new Gauge({ name: 'agent_pool_workers', help: 'Provisioned workers of the pool on this instance', labelNames: ['agent_type'], registers, collect() { for (const t of pools.agentTypes) this.set({ agent_type: t }, pools.snapshot(t).workers); } });
    // Figures of the last reporting window.
    this.gauges = {
      backlog: gauge('agent_pool_backlog', 'Dispatches not started yet: not taken from the topic plus waiting for a slot'),
      utilization: gauge('agent_pool_utilization', 'Busy slot-time / available slot-time over the last window, 0..1'),
      arrival: gauge('agent_pool_arrival_rate_per_second', 'Dispatches taken per second over the last window'),
      completion: gauge('agent_pool_completion_rate_per_second', 'Attempts finished (any outcome) per second over the last window'),
      errors: gauge('agent_pool_error_rate', 'Failed / finished attempts over the last window, 0..1'),
      cpu: gauge('agent_pool_cpu_percent', 'CPU of the pool over the last window, percent of one core'),
      rss: gauge('agent_pool_memory_rss_bytes', 'Resident memory attributed to the pool'),
    };
    this.latency = new Gauge({ name: 'agent_pool_task_latency_ms', help: 'Task latency (taken to outcome) percentiles over the last window', labelNames: ['agent_type', 'quantile'], registers });
  }

  start(): void {
    this.timer = setInterval(() => {
      this.reporting = this.reporting.then(async () => void (await this.report())).catch((error) => this.options.logger.warn({ err: error }, 'pool metrics not reported'));
    }, this.options.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.reporting;
  }

  /** Builds and publishes one report per pool; returns them. */
  async report(): Promise<PoolMetricsReported[]> {
    const { pools, instanceId } = this.options;
    const now = Date.now();
    const cpu = process.cpuUsage(this.cpuAt);
    const processCpuMs = (cpu.user + cpu.system) / 1000;
    const cpuWindowMs = Math.max(1, now - this.cpuSince);
    this.cpuAt = process.cpuUsage();
    this.cpuSince = now;
    const rss = process.memoryUsage().rss;

    const cuts = new Map(pools.agentTypes.map((t) => [t, pools.cutWindow(t)]));
    const shares = processShares(Object.fromEntries([...cuts].map(([t, c]) => [t, c.busySlotMs])));
    const reports = await Promise.all(
      [...cuts].map(async ([agentType, cut]): Promise<PoolMetricsReported> => {
        const snapshot = pools.snapshot(agentType);
        const summary = summarizeWindow(cut);
        const notTaken = await this.options.notTaken(this.options.dispatchTopic(agentType)).catch((error) => {
          this.options.logger.warn({ err: error, agentType }, 'consumer lag unknown');
          return 0;
        });
        return {
          agentType,
          instanceId,
          windowStartedAt: cut.startedAt,
          windowEndedAt: cut.endedAt,
          workers: snapshot.workers,
          concurrency: snapshot.concurrency,
          inFlight: snapshot.inFlight,
          backlog: notTaken + snapshot.queued,
          ...summary,
          cpuPercent: ((processCpuMs * shares[agentType]) / cpuWindowMs) * 100 + (cut.measuredCpuMs / Math.max(1, cut.endedAt - cut.startedAt)) * 100,
          memoryRssBytes: Math.round(rss * shares[agentType]),
          reportedAt: now,
        };
      }),
    );
    for (const r of reports) this.expose(r);
    await this.options.publisher.publish(
      reports.map((payload) => ({
        topic: this.options.topic,
        key: payload.agentType,
        envelope: {
          eventId: uuidv7(),
          eventType: 'flotilla.pool.PoolMetricsReported',
          aggregateId: `Pool-${payload.agentType}-${instanceId}`,
          aggregateVersion: 0,
          occurredAt: now,
          correlationId: `Pool-${payload.agentType}`,
          causationId: null,
          traceparent: null,
          tracestate: null,
          payload,
        },
      })),
    );
    return reports;
  }

  private expose(r: PoolMetricsReported): void {
    const labels = { agent_type: r.agentType };
    this.gauges.backlog.set(labels, r.backlog);
    this.gauges.utilization.set(labels, r.utilization);
    this.gauges.arrival.set(labels, r.arrivalRatePerSec);
    this.gauges.completion.set(labels, r.completionRatePerSec);
    this.gauges.errors.set(labels, r.errorRate);
    this.gauges.cpu.set(labels, r.cpuPercent);
    this.gauges.rss.set(labels, r.memoryRssBytes);
    if (r.latencyP50Ms !== null) this.latency.set({ ...labels, quantile: '0.5' }, r.latencyP50Ms);
    if (r.latencyP95Ms !== null) this.latency.set({ ...labels, quantile: '0.95' }, r.latencyP95Ms);
  }
}
