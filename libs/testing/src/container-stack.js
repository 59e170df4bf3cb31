// The same stack as deploy/native, in containers, for machines with a Docker engine. Ryuk (the
// testcontainers reaper) removes the containers when the test run ends.
const net = require('node:net');

async function dockerAvailable() {
  try {
    const { getContainerRuntimeClient } = require('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function startContainerStack() {
  const { GenericContainer, Network, Wait } = require('testcontainers');
  const network = await new Network().start();

  const kafkaPort = await freePort();
  const kafka = new GenericContainer('apache/kafka:3.9.1')
    .withNetwork(network)
    .withNetworkAliases('kafka')
    .withExposedPorts({ container: 9092, host: kafkaPort })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${kafkaPort}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  const registry = new GenericContainer('apicurio/apicurio-registry:3.3.3')
    .withExposedPorts(8080)
    .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080))
    .start();
  const postgres = new GenericContainer('postgres:15')
    .withEnvironment({ POSTGRES_USER: 'flotilla', POSTGRES_PASSWORD: 'flotilla', POSTGRES_DB: 'flotilla' })
    .withCommand(['postgres', '-c', 'max_connections=300'])
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  const redis = new GenericContainer('redis:7').withExposedPorts(6379).start();
  const jaeger = new GenericContainer('jaegertracing/jaeger:2.14.0')
    .withExposedPorts(4318, 16686)
    .withWaitStrategy(Wait.forHttp('/api/services', 16686))
    .start();

  const [, r, pg, rd, j] = await Promise.all([kafka, registry, postgres, redis, jaeger]);
  const url = (c, port) => `${c.getHost()}:${c.getMappedPort(port)}`;
  const registryUrl = `http://${url(r, 8080)}/apis/ccompat/v7`;
  await fetch(`${registryUrl}/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ compatibility: 'BACKWARD' }),
  });
  return {
    KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
    SCHEMA_REGISTRY_URL: registryUrl,
    DATABASE_URL: `postgres://flotilla:flotilla@${url(pg, 5432)}/flotilla`,
    REDIS_URL: `redis://${url(rd, 6379)}`,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://${url(j, 4318)}`,
    JAEGER_QUERY_URL: `http://${url(j, 16686)}`,
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

module.exports = { dockerAvailable, startContainerStack };
