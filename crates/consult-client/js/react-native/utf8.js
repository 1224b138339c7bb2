// TextDecoder / TextEncoder for wasm-bindgen's glue in the React Native build: the platform's
// when it has them, else a small UTF-8 codec (Hermes has no TextDecoder, older Hermes no
// TextEncoder either). scripts/build-react-native.sh makes the glue import these names instead
// of reading the globals; nothing is installed on globalThis.
//
// Strings crossing the boundary are what the driver passes (JS strings, possibly with lone
// surrogates: encoded as U+FFFD, as TextEncoder does) and what Rust returns (always valid UTF-8;
// malformed input would decode to U+FFFD, as a non-fatal TextDecoder does).

const REPLACEMENT = 0xfffd;
/** Code units per String.fromCharCode call: bounded, so a long string never overflows the stack. */
const CHUNK = 4096;

/** A UTF-8 decoder with TextDecoder's `decode(bytes)` (UTF-8 only, non-fatal, BOM kept). */
export function Utf8Decoder() {}

Utf8Decoder.prototype.decode = function decode(bytes) {
  if (bytes === undefined) return "";
  const end = bytes.length;
  let out = "";
  const units = [];
  let i = 0;
  while (i < end) {
    const b0 = bytes[i];
    let cp = REPLACEMENT;
    let size = 1;
    if (b0 < 0x80) {
      cp = b0;
    } else if (b0 >= 0xc2 && b0 < 0xe0) {
      const b1 = bytes[i + 1];
      if (i + 1 < end && (b1 & 0xc0) === 0x80) {
        cp = ((b0 & 0x1f) << 6) | (b1 & 0x3f);
        size = 2;
      }
    } else if (b0 >= 0xe0 && b0 < 0xf0) {
      const b1 = bytes[i + 1];
      const b2 = bytes[i + 2];
      if (i + 2 < end && (b1 & 0xc0) === 0x80 && (b2 & 0xc0) === 0x80) {
        const c = ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
        // Overlong forms and surrogates are not UTF-8.
        if (c >= 0x800 && (c < 0xd800 || c > 0xdfff)) {
          cp = c;
          size = 3;
        }
      }
    } else if (b0 >= 0xf0 && b0 < 0xf5) {
      const b1 = bytes[i + 1];
      const b2 = bytes[i + 2];
      const b3 = bytes[i + 3];
      if (i + 3 < end && (b1 & 0xc0) === 0x80 && (b2 & 0xc0) === 0x80 && (b3 & 0xc0) === 0x80) {
        const c = ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
        if (c >= 0x10000 && c <= 0x10ffff) {
          cp = c;
          size = 4;
        }
      }
    }
    if (cp > 0xffff) {
      cp -= 0x10000;
      units.push(0xd800 | (cp >> 10), 0xdc00 | (cp & 0x3ff));
    } else {
      units.push(cp);
    }
    i += size;
    if (units.length >= CHUNK) {
      out += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  }
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

/** What wasm-bindgen's glue uses: the platform's codec, or the fallback above. */
const PlatformDecoder = typeof platform.TextDecoder === "function" ? platform.TextDecoder : Utf8Decoder;
const PlatformEncoder = typeof platform.TextEncoder === "function" ? platform.TextEncoder : Utf8Encoder;
export { PlatformDecoder as TextDecoder, PlatformEncoder as TextEncoder };
