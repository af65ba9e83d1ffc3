import type { JsonValue } from '@bufbuild/protobuf';

/**
 * Parses `text` when it is plain JSON whose objects never repeat a key; undefined otherwise.
 * Bootstraps are JSON more often than not (Istio's agent writes one), and `JSON.parse` spares
 * the proxy the YAML parser's code and heap. YAML refuses a repeated key where `JSON.parse`
 * silently keeps the last one, so such text is left to the YAML parser, which names the key.
 */
export function parseJsonWithoutDuplicates(text: string): JsonValue | undefined {
  if (!/^\s*[{[]/.test(text)) return undefined;
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
  return hasDuplicateKey(text) ? undefined : value;
}

/** For text that is valid JSON: does any object in it name one key twice? */
export function hasDuplicateKey(json: string): boolean {
  // One entry per open container: the keys seen so far (objects) or null (arrays).
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x7b /* { */) { stack.push(new Set()); expectKey = true; }
    else if (c === 0x5b /* [ */) { stack.push(null); expectKey = false; }
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) { stack.pop(); expectKey = false; }
    else if (c === 0x2c /* , */) expectKey = stack[stack.length - 1] != null;
    else if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < json.length; i++) {
        const d = json.charCodeAt(i);
        if (d === 0x5c /* \ */) { escaped = true; i++; }
        else if (d === 0x22) break;
      }
      if (!expectKey) continue;
      const raw = json.slice(start, i + 1);
      // Escapes spell one key many ways ("a" and "\u0061"); compare what they decode to.
      const key = escaped ? JSON.parse(raw) as string : raw.slice(1, -1);
      const keys = stack[stack.length - 1]!;
      if (keys.has(key)) return true;
      keys.add(key);
      expectKey = false;
    }
  }
  return false;
}
