import { KafkaOffsets } from '@flotilla/messaging';
import type { Logger } from '@flotilla/observability';
import type { Kafka } from 'kafkajs';

export interface GroupTopics {
  readonly groupId: string;
  readonly topics: readonly string[];
}

/**
 * Resolves once each group has committed up to where its topics ended when this was called: what a
 * restarted service missed has been applied. Work that acts on the state the consumers keep (a due
 * heartbeat timeout, a free slot) waits for this, not merely for the groups to be joined: a heartbeat
 * or a completion still unread behind the restart would otherwise lose the race against its timer.
 * Gives up waiting after `timeoutMs` (a stuck partition must not keep the service from working) and
 * says so.
 */
export async function waitUntilCaughtUp(kafka: Kafka, groups: readonly GroupTopics[], { logger, timeoutMs = 120_000, intervalMs = 200 }: { logger: Logger; timeoutMs?: number; intervalMs?: number }): Promise<void> {
  if (groups.length === 0) return;
  const offsets = new KafkaOffsets(kafka);
  const startedAt = Date.now();
  try {
    const targets = await Promise.all(
      groups.map(async ({ groupId, topics }) => ({ groupId, topics, ends: new Map((await offsets.ranges(topics)).map((r) => [`${r.topic}:${r.partition}`, r.high])) })),
    );
    for (;;) {
      const behind = await Promise.all(
        targets.map(async ({ groupId, topics, ends }) => {
          let lag = 0n;
          for (const { topic, partition, offset } of await offsets.committed(groupId, topics)) {
            const end = ends.get(`${topic}:${partition}`) ?? 0n;
            // -1: nothing committed yet; an empty partition (end 0) needs nothing.
            const at = offset < 0n ? 0n : offset;
            if (end > at) lag += end - at;
          }
          return lag;
        }),
      );
      const total = behind.reduce((a, b) => a + b, 0n);
      if (total === 0n) {
        logger.info({ ms: Date.now() - startedAt }, 'consumers caught up with what arrived before the start');
        return;
      }
      if (Date.now() - startedAt > timeoutMs) {
        logger.warn({ behind: Number(total), ms: Date.now() - startedAt }, 'consumers still behind after the catch-up wait; starting background work anyway');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  } catch (error) {
    logger.warn({ err: error }, 'could not tell whether the consumers caught up; starting background work anyway');
  } finally {
    await offsets.close();
  }
}
