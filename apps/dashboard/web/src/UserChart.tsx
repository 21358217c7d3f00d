/** A user's windows over time (lazy, for the same reason as Charts). */
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatClock } from './format.js';

export interface UserPoint {
  t: number;
  events: number;
  clicks: number;
}

export default function UserChart({ points }: { points: UserPoint[] }) {
  return (
    <div className="chart-body" aria-hidden="true">
      <ResponsiveContainer width="100%" height="100%">
        <BarChart accessibilityLayer={false} data={points} margin={{ top: 4, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid stroke="#e5e7eb" vertical={false} />
          <XAxis dataKey="t" tickFormatter={formatClock} fontSize={11} minTickGap={30} />
          <YAxis allowDecimals={false} fontSize={11} width={44} />
          <Tooltip labelFormatter={(t) => formatClock(Number(t))} />
          <Legend />
          <Bar dataKey="events" name="events" fill="#7c3aed" isAnimationActive={false} />
          <Bar dataKey="clicks" name="clicks" fill="#c2410c" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
