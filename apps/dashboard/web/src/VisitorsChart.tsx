/** Visitors and page views over the range. Loaded lazily with recharts, like the other charts. */
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';

export interface SeriesPoint {
  label: string;
  visitors?: number;
  pageviews?: number;
}

export default function VisitorsChart({ points, showVisitors }: { points: SeriesPoint[]; showVisitors: boolean }) {
  return (
    <div className="chart-body tall" aria-hidden="true">
      <ResponsiveContainer width="100%" height="100%">
        <AreaChart accessibilityLayer={false} data={points} margin={{ top: 4, right: 8, bottom: 0, left: -8 }}>
          <CartesianGrid stroke="#e5e7eb" vertical={false} />
          <XAxis dataKey="label" minTickGap={40} fontSize={11} />
          <YAxis allowDecimals={false} fontSize={11} width={44} />
          <Tooltip />
          {showVisitors && <Area type="monotone" dataKey="visitors" name="Visitors" stroke="#2563eb" fill="#2563eb" fillOpacity={0.15} isAnimationActive={false} />}
          <Area type="monotone" dataKey="pageviews" name="Page views" stroke="#7c3aed" fill="#7c3aed" fillOpacity={0.08} isAnimationActive={false} />
        </AreaChart>
      </ResponsiveContainer>
    </div>
  );
}
