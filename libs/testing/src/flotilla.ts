import { physicalTopic } from '@flotilla/contracts';
import { AssignerProtocol, type Admin } from 'kafkajs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Pool } from 'pg';
import { allocatePort } from './ports';
import { ServiceProcess, type ServiceName } from './service-process';
import { testKafka, testPool, uniqueNamespace } from './stack';
import { waitFor } from './wait-for';

/** Environment variables given to a service process. */
export type Environment = Readonly<Record<string, string>>;

/** A service to start: its name, or another instance of a service under a name of its own. */
export type ServiceSpec = ServiceName | { readonly service: ServiceName; readonly as: string };

/** The name a spec gives an instance: the service's own, or the `as` of another instance. */
export type InstanceName<S> = S extends ServiceName ? S : S extends { readonly as: infer N extends string } ? N : never;

export interface FlotillaOptions<S extends ServiceSpec> {
  /** Started in parallel; each start waits for its own /ready. */
  readonly services: readonly S[];
  /**
   * Extra environment: `all` for every service, then by service name, then by instance name; a later
   * one wins. FLOTILLA_NAMESPACE, HTTP_PORT and the stack's endpoints are set already.
   */
  readonly settings?: { readonly all?: Environment } & { readonly [Name in ServiceName | InstanceName<S>]?: Environment };
  /** Execution settings (the orchestrator's), written to a file given to every service as EXECUTION_SETTINGS_FILE. */
  readonly executionSettings?: object;
  /** Executors (the agent pool's), written to a file given to every service as EXECUTORS_FILE. */
  readonly executors?: object;
  /** Start of the namespace's name, to tell the spec's topics and schemas apart (see uniqueNamespace). */
  readonly namespacePrefix?: string;
}

/** What a spec gets from startFlotilla: its services, their namespace, and ways to ask about them. */
export interface Flotilla<N extends string = string> {
  /** Prefix of every topic, consumer group and database schema of these services. */
  readonly namespace: string;
  /** Each service's process by instance name (kill it, start it again, read its url). */
  readonly services: Readonly<Record<N, ServiceProcess>>;
  process(name: N): ServiceProcess;
  /** The service's base URL, e.g. `http://127.0.0.1:41211`. */
  url(name: N): string;
  /** Physical name of a catalogue topic in this namespace: `topic('flotilla.executions')`. */
  topic(logicalName: string): string;
  /** The PostgreSQL schema holding a service's event store, outbox and read models. */
  schema(service: ServiceName): string;
  /**
   * Waits until the services have nothing left on its way: every live consumer group of theirs has
   * committed up to the end of each partition it is assigned, no event waits in their outboxes, and
   * those partitions did not grow while this was checked. A group that starts at the end of its topics
   * (the agent pool's broadcast groups) and has read nothing since counts as behind where older
   * messages sit: leave its service out then (`services`).
   */
  settled(options?: { services?: readonly ServiceName[]; timeoutMs?: number }): Promise<void>;
  /** Stops every service (SIGTERM, then SIGKILL after a grace period) and frees what the fixture holds. */
  stop(): Promise<void>;
}

/**
 * Starts the named services as real processes, all in one fresh namespace, on ports allocated by the
 * OS, with extra environment per service or for all. Stops the ones that did start if any fails.
 *
 *   const flotilla = await startFlotilla({ services: ['orchestrator', 'agent-pool'], settings: { all: { POOL_CONCURRENCY: '4' } } });
 *   await fetch(`${flotilla.url('orchestrator')}/v1/executions`, …);
 *   await flotilla.stop();
 */
export async function startFlotilla<const S extends ServiceSpec>(options: FlotillaOptions<S>): Promise<Flotilla<InstanceName<S>>> {
  const namespace = uniqueNamespace(options.namespacePrefix);
  const instances = options.services.map((spec) => (typeof spec === 'string' ? { name: spec as string, service: spec as ServiceName } : { name: spec.as, service: spec.service }));
  const names = instances.map((i) => i.name);
  const twice = names.filter((name, i) => names.indexOf(name) !== i);
  if (twice.length > 0) throw new Error(`startFlotilla: ${twice.join(', ')} named twice; give another instance its own name ({ service, as })`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `flotilla-${namespace}-`));
  const files: Record<string, string> = {};
  const write = (variable: string, file: string, content: object) => {
    files[variable] = path.join(dir, file);
    fs.writeFileSync(files[variable], JSON.stringify(content, null, 2));
  };
  if (options.executionSettings) write('EXECUTION_SETTINGS_FILE', 'execution-settings.json', options.executionSettings);
  if (options.executors) write('EXECUTORS_FILE', 'executors.json', options.executors);

  const settings = (options.settings ?? {}) as Readonly<Record<string, Environment | undefined>>;
  const ports = await Promise.all(instances.map(() => allocatePort()));
  const services = Object.fromEntries(
    instances.map(({ name, service }, i) => {
      const env = { FLOTILLA_NAMESPACE: namespace, ...files, ...settings.all, ...settings[service], ...(name !== service ? settings[name] : {}) };
      return [name, new ServiceProcess(service, ports[i], env, { logName: `${namespace}-${name}` })];
    }),
  ) as Record<InstanceName<S>, ServiceProcess>;

  const flotilla = new RunningFlotilla(namespace, services, dir);
  const starts = await Promise.allSettled(Object.values<ServiceProcess>(services).map((service) => service.start()));
  const failures = starts.flatMap((start) => (start.status === 'rejected' ? [(start.reason as Error).message] : []));
  if (failures.length > 0) {
    await flotilla.stop();
    throw new Error(`startFlotilla (namespace ${namespace}): ${failures.join('\n\n')}`);
  }
  return flotilla;
}

class RunningFlotilla<N extends string> implements Flotilla<N> {
  private kafkaAdmin: Promise<Admin> | null = null;
  private database: Pool | null = null;
  private stopped: Promise<void> | null = null;

  constructor(
    readonly namespace: string,
    readonly services: Readonly<Record<N, ServiceProcess>>,
    private readonly dir: string,
  ) {}

  process(name: N): ServiceProcess {
    const service = this.services[name];
    if (!service) throw new Error(`no service ${name} in this flotilla (${Object.keys(this.services).join(', ')})`);
    return service;
  }

  url(name: N): string {
    return this.process(name).url;
  }

  topic(logicalName: string): string {
    return physicalTopic(this.namespace, logicalName);
  }

  schema(service: ServiceName): string {
    // The event store's schemaName(namespace, service); not imported: the event store's tests use this library.
    return `${this.namespace}_${service}`.replace(/[^a-zA-Z0-9_]/g, '_').toLowerCase();
  }

  async settled({ services = this.serviceNames(), timeoutMs = 60_000 }: { services?: readonly ServiceName[]; timeoutMs?: number } = {}): Promise<void> {
    await waitFor(
      `${services.join(', ')} to settle in ${this.namespace}`,
      async () => {
        const behind = await this.behind(services);
        if (behind.length > 0) throw new Error(behind.slice(0, 5).join('; ') + (behind.length > 5 ? `; and ${behind.length - 5} more` : ''));
        return true;
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  /** What is still on its way, one line each; empty when settled. */
  private async behind(services: readonly ServiceName[]): Promise<string[]> {
    const admin = await this.admin();
    // Consumer group ids are `<namespace>.flotilla.<service>.<consumer>` (the platform's groupId).
    const prefixes = services.map((service) => this.topic(`flotilla.${service}.`));
    const ids = (await admin.listGroups()).groups.map((g) => g.groupId).filter((id) => prefixes.some((prefix) => id.startsWith(prefix)));
    const behind: string[] = [];
    const assigned = new Map<string, Map<string, number[]>>();
    for (const group of ids.length > 0 ? (await admin.describeGroups(ids)).groups : []) {
      if (group.state === 'Empty' || group.state === 'Dead') continue; // nobody left in it to consume anything
      if (group.state !== 'Stable') {
        behind.push(`group ${group.groupId} is ${group.state}`);
        continue;
      }
      const topics = new Map<string, number[]>();
      for (const member of group.members) {
        const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment ?? {};
        for (const [topic, partitions] of Object.entries(assignment)) topics.set(topic, [...(topics.get(topic) ?? []), ...partitions]);
      }
      assigned.set(group.groupId, topics);
    }

    const topics = [...new Set([...assigned.values()].flatMap((t) => [...t.keys()]))];
    const ends = async () => new Map(await Promise.all(topics.map(async (topic) => [topic, await admin.fetchTopicOffsets(topic)] as const)));
    const before = await ends();
    for (const [groupId, groupTopics] of assigned) {
      if (groupTopics.size === 0) continue;
      const committed = await admin.fetchOffsets({ groupId, topics: [...groupTopics.keys()] });
      for (const [topic, partitions] of groupTopics) {
        for (const partition of partitions) {
          const end = before.get(topic)?.find((p) => p.partition === partition);
          if (!end) continue;
          const offset = Number(committed.find((c) => c.topic === topic)?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
          // Nothing committed yet: the group is still before the partition's first message.
          const position = offset >= 0 ? offset : Number(end.low);
          if (position < Number(end.high)) behind.push(`${groupId} at ${position} of ${end.high} on ${topic}[${partition}]`);
        }
      }
    }

    const database = this.pool();
    for (const service of new Set(services)) {
      const outbox = `${this.schema(service)}.outbox`;
      if ((await database.query('SELECT to_regclass($1) AS found', [outbox])).rows[0].found === null) continue;
      const waiting = (await database.query(`SELECT count(*)::int AS n FROM ${outbox}`)).rows[0].n as number;
      if (waiting > 0) behind.push(`${waiting} event(s) in ${outbox}`);
    }

    if (behind.length === 0) {
      // Whatever was consumed or relayed while the above was read would show as a partition that grew.
      const after = await ends();
      for (const topic of topics) {
        const high = (offsets: { partition: number; high: string }[] | undefined) => JSON.stringify((offsets ?? []).map((p) => [p.partition, p.high]).sort());
        if (high(before.get(topic)) !== high(after.get(topic))) behind.push(`${topic} grew while it was checked`);
      }
    }
    return behind;
  }

  private serviceNames(): ServiceName[] {
    return [...new Set(Object.values<ServiceProcess>(this.services).map((s) => s.name))];
  }

  /**
   * The namespace's topics, once nothing uses them: a full run starts dozens of namespaces of some
   * 200 partitions each, and a broker keeps files open for every partition it holds (the native
   * stack's Kafka may open 20,000). Best effort: the next run's prune takes what is left.
   */
  private async dropTopics(): Promise<void> {
    try {
      const admin = await this.admin();
      const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(`${this.namespace}.`));
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    } catch {
      // The broker is away (a test that stopped it): the prune of the next run deletes them.
    }
  }

  private admin(): Promise<Admin> {
    this.kafkaAdmin ??= (async () => {
      const admin = testKafka(`flotilla-${this.namespace}`).admin();
      await admin.connect();
      return admin;
    })();
    return this.kafkaAdmin;
  }

  private pool(): Pool {
    this.database ??= testPool(2);
    return this.database;
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await Promise.all(Object.values<ServiceProcess>(this.services).map((service) => service.stop()));
      await this.dropTopics();
      await Promise.all([this.kafkaAdmin?.then((admin) => admin.disconnect()).catch(() => undefined), this.database?.end().catch(() => undefined)]);
      fs.rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.stopped;
  }
}
