// Brings up the real stack the int and e2e tiers need (never mocks): testcontainers where a Docker
// engine answers, the project's native launcher otherwise. Endpoints reach the test workers through
// process.env, which they inherit.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { startContainerStack, dockerAvailable } = require('./container-stack');
const { pruneTestTopics } = require('./prune-test-topics');

const ENDPOINT_VARIABLES = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'DATABASE_URL', 'REDIS_URL', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'JAEGER_QUERY_URL'];

function applyExports(text) {
  for (const line of text.split('\n')) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) process.env[match[1]] = match[2];
  }
}

module.exports = async function globalSetup() {
  if (ENDPOINT_VARIABLES.every((v) => process.env[v])) return; // the caller provides a stack
  if (process.env.FLOTILLA_STACK !== 'native' && (await dockerAvailable())) {
    Object.assign(process.env, await startContainerStack());
    return;
  }
  const launcher = path.resolve(__dirname, '../../../deploy/native/stack');
  execFileSync(launcher, ['up'], { stdio: ['ignore', 'inherit', 'inherit'] });
  applyExports(execFileSync(launcher, ['env'], { encoding: 'utf8' }));
  // The native stack outlives test runs: drop what earlier runs left behind.
  const startedAt = Date.now();
  const pruned = await pruneTestTopics(process.env.KAFKA_BROKERS.split(','));
  if (pruned > 0) process.stdout.write(`pruned ${pruned} topics of earlier test runs (${((Date.now() - startedAt) / 1000).toFixed(1)}s)\n`);
};
