import { ConfigError, readBrokers, readDatabaseUrl, readPort, readString, readTopicPrefix, topicNames, type TopicNames } from '@clickstream/shared';

export interface DashboardConfig {
  readonly port: number;
  readonly host: string;
  readonly kafkaBrokers: readonly string[];
  readonly databaseUrl: string;
  readonly topics: TopicNames;
  readonly apiToken: string;
}

export function parseDashboardConfig(env: Record<string, string | undefined> = process.env): DashboardConfig {
  const apiToken = readString(env, 'API_TOKEN', '');
  if (apiToken.length < 16) throw new ConfigError('API_TOKEN', 'must be set to at least 16 characters (npm start generates one)');
  return Object.freeze({
    port: readPort(env, 'DASHBOARD_PORT', 3000),
    host: readString(env, 'DASHBOARD_HOST', '0.0.0.0'),
    kafkaBrokers: Object.freeze(readBrokers(env)),
    databaseUrl: readDatabaseUrl(env),
    topics: topicNames(readTopicPrefix(env)),
    apiToken,
  });
}
