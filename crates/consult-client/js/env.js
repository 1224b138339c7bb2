// Small environment helpers: timers, page visibility, URLs.

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(ms, 0), 2147483647)));

export const pageHidden = () => typeof document !== "undefined" && document.hidden === true;

/** `value` truncated and clamped to [low, high] when it is a number, else `fallback`. */
export const clampNumber = (value, fallback, low, high) =>
  typeof value === "number" && !Number.isNaN(value) ? Math.trunc(Math.min(Math.max(value, low), high)) : fallback;

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
