import { ConfigError, loadConfig, platformConfigSchema } from './config';

const valid = {
  KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081/apis/ccompat/v7',
  DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db',
  HTTP_PORT: '3000',
};

describe('loadConfig', () => {
  it('given valid variables, parses and converts them', () => {
    const config = loadConfig(platformConfigSchema, valid);
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092', '127.0.0.1:9093']);
    expect(config.HTTP_PORT).toBe(3000);
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('given bad values, names every bad variable', () => {
    const attempt = () => loadConfig(platformConfigSchema, { ...valid, KAFKA_BROKERS: 'nohost', HTTP_PORT: 'eighty', DATABASE_URL: undefined });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const message = (error as ConfigError).message;
      expect(message).toMatch(/KAFKA_BROKERS must be a comma-separated list of host:port/);
      expect(message).toMatch(/HTTP_PORT must be a number/);
      expect(message).toMatch(/DATABASE_URL is required/);
    }
  });
});
