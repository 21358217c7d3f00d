/**
 * What the address bar holds, so that a view can be shared: the site, the view, the overview's
 * range and filters, the drilled-down user. Pure: parse and write a query string.
 *
 * `?site=shop&view=overview&range=custom&from=2026-01-01&to=2026-01-07&f=is,visit:source,google.com&f=is,event:page,/pricing`
 * A filter is `op,dimension,value`: op and dimension hold no comma, the value may.
 */
import { DEFAULT_RANGE, isFilterable, isOverviewRange, type Filter, type RangeChoice } from './overview-model.js';

export const VIEWS = ['overview', 'users', 'pipeline'] as const;
export type View = (typeof VIEWS)[number];

export interface UrlState {
  site?: string;
  view: View;
  range: RangeChoice;
  filters: Filter[];
  /** The user drilled into (users view). */
  user?: string;
  /** The custom-event property the overview breaks down. */
  prop?: string;
}

const SITE = /^[A-Za-z0-9._-]{1,64}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MAX_FILTERS = 10;

export function parseUrlState(search: string): UrlState {
  const params = new URLSearchParams(search);
  const site = params.get('site') ?? undefined;
  const view = params.get('view');
  const key = params.get('range');
  const range: RangeChoice = { key: isOverviewRange(key) ? key : DEFAULT_RANGE };
  if (range.key === 'custom') {
    const from = params.get('from');
    const to = params.get('to');
    if (from && DATE.test(from)) range.from = from;
    if (to && DATE.test(to)) range.to = to;
  }
  const filters: Filter[] = [];
  for (const raw of params.getAll('f').slice(0, MAX_FILTERS)) {
    const first = raw.indexOf(',');
    const second = raw.indexOf(',', first + 1);
    if (first < 0 || second < 0) continue;
    const op = raw.slice(0, first);
    const dimension = raw.slice(first + 1, second);
    const value = raw.slice(second + 1);
    if (op !== 'is' || !isFilterable(dimension) || value.length > 2048 || filters.some((f) => f.dimension === dimension)) continue;
    filters.push({ op, dimension, value });
  }
  const user = params.get('user') ?? undefined;
  const prop = params.get('prop') ?? undefined;
  return {
    ...(site && SITE.test(site) ? { site } : {}),
    view: (VIEWS as readonly string[]).includes(view ?? '') ? (view as View) : 'overview',
    range,
    filters,
    ...(user && user.length <= 128 ? { user } : {}),
    ...(prop && prop.length <= 128 ? { prop } : {}),
  };
}

/** The query string for a state; keys other than ours (none today) are not kept. */
export function writeUrlState(state: UrlState): string {
  const params = new URLSearchParams();
  if (state.site) params.set('site', state.site);
  if (state.view !== 'overview') params.set('view', state.view);
  if (state.range.key !== DEFAULT_RANGE) params.set('range', state.range.key);
  if (state.range.key === 'custom') {
    if (state.range.from) params.set('from', state.range.from);
    if (state.range.to) params.set('to', state.range.to);
  }
  for (const f of state.filters) params.append('f', `${f.op},${f.dimension},${f.value}`);
  if (state.user !== undefined) params.set('user', state.user);
  if (state.prop !== undefined) params.set('prop', state.prop);
  const text = params.toString();
  return text ? `?${text}` : '';
}
