// Every test suite works in a namespace of its own (uniqueNamespace: prefix + base-36 time + 6 hex),
// so the broker collects topics run after run. Thousands of leftover partitions make a restarted
// broker slow to load and slow to serve metadata; this drops the namespaces of earlier runs.
const { Kafka, logLevel } = require('kafkajs');

const NAMESPACE = /^(.+?)([0-9a-z]{8})([0-9a-f]{6})\./;

/** Deletes topics of test namespaces created more than `olderThanMs` ago; returns how many. */
async function pruneTestTopics(brokers, { olderThanMs = 30 * 60_000, now = Date.now() } = {}) {
  const admin = new Kafka({ clientId: 'flotilla-test-prune', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const stale = (await admin.listTopics()).filter((topic) => {
      const match = NAMESPACE.exec(topic);
      if (!match) return false;
      const createdAt = parseInt(match[2], 36);
      return Number.isFinite(createdAt) && createdAt > 1_600_000_000_000 && createdAt < now - olderThanMs;
    });
    for (let i = 0; i < stale.length; i += 200) await admin.deleteTopics({ topics: stale.slice(i, i + 200), timeout: 60_000 });
    return stale.length;
  } finally {
    await admin.disconnect();
  }
}

module.exports = { pruneTestTopics };
