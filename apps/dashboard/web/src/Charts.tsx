/**
 * The four live charts. Loaded lazily: recharts is most of the JavaScript, and the numbers
 * above the charts can show before it arrives.
 */
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatClock } from './format.js';
import type { ChartPoint } from './timeline.js';

interface SeriesSpec {
  key: keyof Omit<ChartPoint, 't'>;
  title: string;
  unit: string;
  color: string;
}

const SERIES: SeriesSpec[] = [
  { key: 'activeUsers', title: 'Active users', unit: 'users', color: '#2563eb' },
  { key: 'eventsPerSecond', title: 'Events per second', unit: 'events/s', color: '#7c3aed' },
  { key: 'clicks', title: 'Clicks', unit: 'clicks', color: '#c2410c' },
  { key: 'engagedSeconds', title: 'Engaged time', unit: 's', color: '#047857' },
];

function describe(points: readonly ChartPoint[], spec: SeriesSpec): string {
  const values = points.map((p) => p[spec.key]);
  const last = values.at(-1) ?? 0;
  const peak = Math.max(0, ...values);
  return `${spec.title}: latest ${last.toFixed(1)} ${spec.unit}, peak ${peak.toFixed(1)} ${spec.unit} in this range.`;
}

export default function Charts({ points, bucketLabel }: { points: ChartPoint[]; bucketLabel: string }) {
  return (
    <div className="charts">
      {SERIES.map((spec) => (
        <figure className="card chart" key={spec.key} aria-label={`${spec.title} chart`}>
          <figcaption>
            {spec.title} <span className="muted">per {bucketLabel}</span>
          </figcaption>
          <p className="visually-hidden">{describe(points, spec)}</p>
          <div className="chart-body" aria-hidden="true">
            <ResponsiveContainer width="100%" height="100%">
              <AreaChart accessibilityLayer={false} data={points} margin={{ top: 4, right: 8, bottom: 0, left: -8 }}>
                <CartesianGrid stroke="#e5e7eb" vertical={false} />
                <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} tickFormatter={formatClock} minTickGap={40} fontSize={11} />
                <YAxis allowDecimals={spec.key !== 'activeUsers' && spec.key !== 'clicks'} fontSize={11} width={48} />
                <Tooltip
                  labelFormatter={(t) => formatClock(Number(t))}
                  formatter={(v) => [`${Number(v).toFixed(spec.key === 'eventsPerSecond' || spec.key === 'engagedSeconds' ? 1 : 0)} ${spec.unit}`, spec.title]}
                />
                <Area type="monotone" dataKey={spec.key} stroke={spec.color} fill={spec.color} fillOpacity={0.15} isAnimationActive={false} />
              </AreaChart>
            </ResponsiveContainer>
          </div>
        </figure>
      ))}
    </div>
  );
}
