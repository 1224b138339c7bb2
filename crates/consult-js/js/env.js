// Small environment helpers: timers, page visibility, URLs.

/** A delay as setTimeout can wait it: not negative, and at most 2^31 - 1 ms (longer fires at once). */
export const timerDelay = (ms) => Math.min(Math.max(ms, 0), 2147483647);

export const pageHidden = () => typeof document !== "undefined" && document.hidden === true;

export const hasWindow = () => typeof window !== "undefined" && window === globalThis;

/** Joins a base URL and a path with exactly one slash (absolute URLs pass as they are). */
export function joinUrl(base, path) {
  if (path.startsWith("http://") || path.startsWith("https://")) return path;
  return base.replace(/\/+$/, "") + "/" + path.replace(/^\/+/, "");
}

/** Percent-encodes a path segment (RFC 3986 unreserved characters pass). */
export const encodeSegment = (segment) =>
  encodeURIComponent(String(segment)).replace(
    /[!'()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );
