/**
 * The page of a URL as the contract counts it: the URL parser's pathname, without query or
 * fragment. `/docs/../pricing` and `/pricing` are one page, and so are `/a b` and `/a%20b`.
 *
 * Most URLs a browser sends already are in the parser's form; for those the path is cut from the
 * text, which is many times cheaper than parsing. Anything the parser could rewrite (dot
 * segments, characters it percent-encodes, backslashes, a missing path) takes the parser.
 */
export function pagePathOf(url: string): string {
  const authorityStart = url.indexOf('://');
  if (authorityStart > 0) {
    const pathStart = url.indexOf('/', authorityStart + 3);
    if (pathStart > 0) {
      let end = url.length;
      let simple = true;
      for (let i = authorityStart + 3; i < url.length; i++) {
        const c = url.charCodeAt(i);
        if (c === 63 /* ? */ || c === 35 /* # */) {
          if (i < pathStart) simple = false;
          end = i;
          break;
        }
        if (i < pathStart ? !isPlainAuthorityChar(c) : !isPlainPathChar(c)) {
          simple = false;
          break;
        }
      }
      if (simple) {
        const path = url.slice(pathStart, end);
        if (!path.includes('/.')) return path;
      }
    }
  }
  try {
    return new URL(url).pathname || '/';
  } catch {
    return '/';
  }
}

/** Host, port and user info characters that cannot end the authority or start a path. */
function isPlainAuthorityChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 46 || c === 45 || c === 58 || c === 64;
}

/** Characters the URL parser leaves as they are in a path (no '%', '\\', spaces or non-ASCII). */
function isPlainPathChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || // a-z
    (c >= 65 && c <= 90) || // A-Z
    (c >= 48 && c <= 57) || // 0-9
    c === 47 || // /
    c === 45 || // -
    c === 95 || // _
    c === 46 || // .
    c === 126 || // ~
    c === 43 || // +
    c === 44 || // ,
    c === 59 || // ;
    c === 61 || // =
    c === 58 || // :
    c === 64 || // @
    c === 33 || // !
    c === 36 || // $
    c === 38 || // &
    c === 39 || // '
    c === 40 || // (
    c === 41 || // )
    c === 42 // *
  );
}
