/** The query API client (contract: "Query API"). Every call carries the bearer token. */
import type { WindowResult } from '@clickstream/shared';
import type { TimelineWindow } from './timeline.js';

import type { TopUser, TopUsersBy } from '@clickstream/shared';

export type { TopUser, TopUsersBy };

export interface PublicConfig {
  collectorUrl: string;
}

export class UnauthorizedError extends Error {
  constructor() {
    super('the API token was refused');
  }
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RangeQuery {
  siteId: string;
  from: number;
  to: number;
}

export class Api {
  constructor(private readonly token: string) {}

  private async get<T>(path: string, params: Record<string, string | number>, signal?: AbortSignal): Promise<T> {
    const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
    const response = await fetch(`/api/v1${path}?${query}`, {
      headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' },
      signal: signal ?? null,
    });
    if (response.status === 401) throw new UnauthorizedError();
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { message?: string };
      throw new ApiError(response.status, body.message ?? `the API answered ${response.status}`);
    }
    return (await response.json()) as T;
  }

  async timeline(q: RangeQuery, signal?: AbortSignal): Promise<TimelineWindow[]> {
    return (await this.get<{ windows: TimelineWindow[] }>('/metrics/timeline', { ...q }, signal)).windows;
  }

  async topUsers(q: RangeQuery & { by: TopUsersBy; limit: number }, signal?: AbortSignal): Promise<TopUser[]> {
    return (await this.get<{ users: TopUser[] }>('/metrics/top-users', { ...q }, signal)).users;
  }

  async userMetrics(userId: string, q: RangeQuery, signal?: AbortSignal): Promise<WindowResult[]> {
    const path = `/users/${encodeURIComponent(userId)}/metrics`;
    return (await this.get<{ windows: WindowResult[] }>(path, { ...q, limit: 1000 }, signal)).windows;
  }
}

export async function fetchPublicConfig(): Promise<PublicConfig | undefined> {
  try {
    const response = await fetch('/config.json');
    if (!response.ok) return undefined;
    const body = (await response.json()) as Partial<PublicConfig>;
    return typeof body.collectorUrl === 'string' ? { collectorUrl: body.collectorUrl } : undefined;
  } catch {
    return undefined;
  }
}
