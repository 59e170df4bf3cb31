import { contextFromTraceparent, Gauge, inSpan, type Logger } from '@flotilla/observability';
import { AdvisoryLeadership, type Platform } from '@flotilla/service-kit';
import pLimit from 'p-limit';
import { planAdmissions, type AdmissionPlan } from './domain/admission-plan';
import type { AdmissionStore } from './ports';
import type { AdmissionCommands } from './admission-commands';
import type { ExecutionCommands } from '../execution/execution-commands';
import { PollingLoop } from '@flotilla/service-kit';

/**
 * Gives free slots to queued executions, one decision round at a time: read the queue, the capacity
 * and the circuits; plan (pure); apply the plan as commands to the aggregates. Only one orchestrator
 * instance admits at a time (AdvisoryLeadership: a PostgreSQL advisory lock held on a dedicated
 * connection), so two instances can never give out the same slot; when the database restarts, the
 * leader loses the lock with its connection and the instances compete again once it is back. Woken when something is queued or released, and on
 * a short tick so that aging, SLA deadlines and circuit cool-offs are noticed without any event.
 */
const ADMIT_CONCURRENCY = 256;

export class Admitter {
  private readonly loop: PollingLoop;
  private readonly leadership: AdvisoryLeadership;
  private readonly queued: Gauge;
  private readonly active: Gauge;
  private readonly capacityGauge: Gauge;

  constructor(
    private readonly platform: Platform,
    private readonly executions: ExecutionCommands,
    readonly commands: AdmissionCommands,
    private readonly store: AdmissionStore,
    logger: Logger,
    tickMs = 250,
  ) {
    this.queued = new Gauge({ name: 'admission_queue_size', help: 'Accepted executions waiting for a slot', registers: [platform.metrics] });
    this.active = new Gauge({ name: 'admission_running_executions', help: 'Executions holding a slot', registers: [platform.metrics] });
    this.capacityGauge = new Gauge({ name: 'admission_capacity', help: 'Global capacity of concurrently running executions', registers: [platform.metrics] });
    this.leadership = new AdvisoryLeadership(platform.pool, { name: `${platform.store.schema}.admitter`, logger });
    // A failed round gives the lead up, so that a healthier instance may take it.
    this.loop = new PollingLoop('admission round', async () => {
      if (await this.leadership.acquire()) await this.round();
    }, logger, tickMs, () => void this.leadership.release());
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.leadership.release();
  }

  /** Something changed (queued, released, circuit, capacity): decide again now rather than at the next tick. */
  nudge(): void {
    this.loop.nudge();
  }

  private async round(): Promise<void> {
    const policy = this.executions.settings.admission;
    const snapshot = await this.store.snapshot(policy.capacity);
    const now = Date.now();
    const plan = planAdmissions(snapshot, policy, now);
    const running = snapshot.entries.filter((e) => e.admittedAt !== null).length;
    this.capacityGauge.set(snapshot.capacity);
    this.queued.set(snapshot.entries.length - running);
    this.active.set(running);
    if (plan.admit.length + plan.reject.length + plan.slaViolations.length === 0) return;
    await this.apply(plan, now, snapshot.traceparents);
  }

  private async apply(plan: AdmissionPlan, now: number, traceparents: ReadonlyMap<string, string>): Promise<void> {
    // Each decision joins the trace of the execution it concerns, so one execution stays one trace.
    const traced = <T>(name: string, executionId: string, work: () => Promise<T>) =>
      inSpan(name, { parent: contextFromTraceparent(traceparents.get(executionId) ?? null, null), attributes: { 'flotilla.correlation_id': executionId } }, work);
    const cause = { causationId: null };
    for (const violation of plan.slaViolations) {
      await traced('admission.sla_violated', violation.executionId, () =>
        this.executions.apply(violation.executionId, { type: 'RecordSlaViolation', sla: 'queue_time', limitMs: this.executions.settings.admission.queueSlaMs, now }, cause),
      );
    }
    for (const rejection of plan.reject) {
      await traced('admission.reject', rejection.executionId, () => this.executions.apply(rejection.executionId, { type: 'RejectQueued', reason: rejection.reason, now }, cause));
    }
    // The plan is decided; applying it is independent per execution, so a burst is admitted in parallel.
    const limit = pLimit(ADMIT_CONCURRENCY);
    await Promise.all(
      plan.admit.map((admission) =>
        limit(() =>
          traced('admission.admit', admission.executionId, async () => {
            if (admission.probe) {
              const probe = await this.commands.circuit({ type: 'AdmitProbe', customerId: admission.customerId, executionId: admission.executionId, now });
              // Half-open already with this very probe (a round interrupted by a crash) is fine; anything else means the circuit moved on.
              if (probe.status !== 'half_open' || probe.probeExecutionId !== admission.executionId) return;
            }
            await this.executions.apply(admission.executionId, { type: 'AdmitExecution', effectivePriority: admission.effectivePriority, probe: admission.probe, now }, cause);
          }),
        ),
      ),
    );
  }
}
