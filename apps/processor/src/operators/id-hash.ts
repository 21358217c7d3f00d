/**
 * A 52-bit hash of an event id, as a number that a JavaScript array stores unboxed. State keeps
 * these instead of the id strings: 8 bytes an id instead of about 40.
 *
 * Collision bound: two distinct ids of one user collide with probability 2^-52 per pair (two
 * independent 26-bit halves). A user's remembered ids number at most a few thousand (events within
 * allowed lateness + retry horizon), so a collision - which would make a real event look like a
 * retry and drop it - has probability below 10^-8 even for a user who sends 5,000 events in that
 * span; at a million such users a day it is expected less than once in 200 years.
 */
export function idHash(id: string): number {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 13;
  a = Math.imul(a, 0xc2b2ae35);
  a ^= a >>> 16;
  b = Math.imul(b ^ (b >>> 13), 0x85ebca6b);
  b ^= b >>> 16;
  return (a >>> 6) * 67_108_864 + (b >>> 6);
}
