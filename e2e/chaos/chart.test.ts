/** The soak plot's SVG: one panel per measure, scaled into its box, text escaped, gaps skipped. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderChart } from './chart.js';

test('each series becomes a polyline inside its panel, missing samples are skipped', () => {
  const svg = renderChart('a <b> & c', [
    { title: 'RSS', series: [{ label: 'collector', x: [0, 10, 20], y: [100, 120, 110] }] },
    { title: 'lag', series: [{ label: 'group', x: [0, 10, 20], y: [5, Number.NaN, 0] }] },
  ]);
  assert.match(svg, /^<svg [^>]*width="1200"/);
  assert.ok(svg.includes('a &lt;b&gt; &amp; c'), 'title escaped');
  const lines = [...svg.matchAll(/<polyline[^>]*points="([^"]+)"/g)].map((m) => m[1]!.split(' ').map((p) => p.split(',').map(Number)));
  assert.equal(lines.length, 2);
  assert.equal(lines[1]!.length, 2, 'the NaN sample is left out');
  // Panels are 200 px high, 30 px apart, below a 40 px title.
  for (const [x, y] of lines[0]!) {
    assert.ok(x! >= 80 && x! <= 1020, `x ${x} inside the plot`);
    assert.ok(y! >= 40 && y! <= 240, `y ${y} inside the first panel`);
  }
  for (const [, y] of lines[1]!) assert.ok(y! >= 270 && y! <= 470, `y ${y} inside the second panel`);
  assert.ok(svg.includes('>20 s<'), 'time axis ends at the last sample');
});
