// TextDecoder / TextEncoder for the core binding (consult_core.js) in the React Native build:
// the platform's when it has them, else a small UTF-8 codec (Hermes has no TextDecoder, older
// Hermes no TextEncoder either). react-native/index.js hands these to bindCore(); nothing is
// installed on globalThis.
//
// Strings crossing the boundary are what the driver passes (JS strings, possibly with lone
// surrogates: encoded as U+FFFD, as TextEncoder does) and what Rust returns (always valid UTF-8;
// malformed input would decode to U+FFFD, as a non-fatal TextDecoder does).

const REPLACEMENT = 0xfffd;
/** Code units per String.fromCharCode call: bounded, so a long string never overflows the stack. */
const CHUNK = 4096;

/**
 * A UTF-8 decoder with TextDecoder's `decode(bytes)`: UTF-8 only, non-fatal, BOM kept. Malformed
 * input becomes U+FFFD per maximal subpart, as the Encoding Standard's decoder does.
 */
export function Utf8Decoder() {}

Utf8Decoder.prototype.decode = function decode(bytes) {
  if (bytes === undefined) return "";
  let out = "";
  const units = [];
  let needed = 0;
  let seen = 0;
  let cp = 0;
  let lower = 0x80;
  let upper = 0xbf;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (needed === 0) {
      if (b < 0x80) units.push(b);
      else if (b >= 0xc2 && b <= 0xdf) (needed = 1), (cp = b & 0x1f);
      else if (b >= 0xe0 && b <= 0xef) {
        if (b === 0xe0) lower = 0xa0;
        if (b === 0xed) upper = 0x9f;
        needed = 2;
        cp = b & 0x0f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        if (b === 0xf0) lower = 0x90;
        if (b === 0xf4) upper = 0x8f;
        needed = 3;
        cp = b & 0x07;
      } else units.push(REPLACEMENT);
    } else if (b < lower || b > upper) {
      // The sequence ends here: one U+FFFD for it, and this byte starts afresh.
      needed = seen = cp = 0;
      lower = 0x80;
      upper = 0xbf;
      units.push(REPLACEMENT);
      i--;
    } else {
      lower = 0x80;
      upper = 0xbf;
      cp = (cp << 6) | (b & 0x3f);
      if (++seen === needed) {
        if (cp > 0xffff) units.push(0xd800 | ((cp - 0x10000) >> 10), 0xdc00 | ((cp - 0x10000) & 0x3ff));
        else units.push(cp);
        needed = seen = cp = 0;
      }
    }
    if (units.length >= CHUNK) {
      out += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  }
  if (needed !== 0) units.push(REPLACEMENT);
  return out + String.fromCharCode.apply(null, units);
};

/** How many UTF-16 units the last codePointAt() read (1 or 2). */
let unitsRead = 1;

/** The code point at `i` of `text` (a lone surrogate is U+FFFD); sets `unitsRead`. */
function codePointAt(text, i) {
  unitsRead = 1;
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdfff) return c;
  if (c <= 0xdbff && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) {
      unitsRead = 2;
      return 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
    }
  }
  return REPLACEMENT;
}

const utf8Length = (cp) => (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);

function put(view, at, cp) {
  if (cp < 0x80) {
    view[at] = cp;
  } else if (cp < 0x800) {
    view[at] = 0xc0 | (cp >> 6);
    view[at + 1] = 0x80 | (cp & 0x3f);
  } else if (cp < 0x10000) {
    view[at] = 0xe0 | (cp >> 12);
    view[at + 1] = 0x80 | ((cp >> 6) & 0x3f);
    view[at + 2] = 0x80 | (cp & 0x3f);
  } else {
    view[at] = 0xf0 | (cp >> 18);
    view[at + 1] = 0x80 | ((cp >> 12) & 0x3f);
    view[at + 2] = 0x80 | ((cp >> 6) & 0x3f);
    view[at + 3] = 0x80 | (cp & 0x3f);
  }
}

/** A UTF-8 encoder with TextEncoder's `encode(text)` and `encodeInto(text, view)`. */
export function Utf8Encoder() {}

Utf8Encoder.prototype.encodeInto = function encodeInto(text, view) {
  text = String(text);
  let read = 0;
  let written = 0;
  while (read < text.length) {
    const cp = codePointAt(text, read);
    const size = utf8Length(cp);
    if (written + size > view.length) break;
    put(view, written, cp);
    read += unitsRead;
    written += size;
  }
  return { read, written };
};

Utf8Encoder.prototype.encode = function encode(text) {
  text = text === undefined ? "" : String(text);
  let length = 0;
  for (let i = 0; i < text.length; ) {
    length += utf8Length(codePointAt(text, i));
    i += unitsRead;
  }
  const bytes = new Uint8Array(length);
  this.encodeInto(text, bytes);
  return bytes;
};

const platform = typeof globalThis === "object" && globalThis !== null ? globalThis : {};

/** What the core binding uses: the platform's codec, or the fallback above. */
const PlatformDecoder = typeof platform.TextDecoder === "function" ? platform.TextDecoder : Utf8Decoder;
const PlatformEncoder = typeof platform.TextEncoder === "function" ? platform.TextEncoder : Utf8Encoder;
export { PlatformDecoder as TextDecoder, PlatformEncoder as TextEncoder };
