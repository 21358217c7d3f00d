/** Answers of the Query API (contract: "Query API"), shared by the server and the web UI. */
export interface TimelinePoint {
  windowStart: string;
  activeUsers: number;
  events: number;
  pageViews: number;
  clicks: number;
  engagedMs: number;
}

export const TOP_USERS_BY = ['events', 'clicks', 'engagedMs'] as const;
export type TopUsersBy = (typeof TOP_USERS_BY)[number];

export interface TopUser {
  userId: string;
  events: number;
  clicks: number;
  engagedMs: number;
  windows: number;
}
